/* The sent-messages page: refresh each message's state and counts until all are out. */

const root = document.getElementById("campaigns");
/** States after which a message's counts can still change. */
const UNSETTLED = new Set(["scheduled", "preparing", "sending"]);

function setField(row, field, value) {
  const cell = row.querySelector(`[data-field="${field}"]`);
  const text = String(value);
  if (cell && cell.textContent !== text) cell.textContent = text;
}

function apply(data) {
  for (const campaign of data.campaigns) {
    const row = root.querySelector(`[data-campaign="${campaign.id}"]`);
    if (!row) continue;
    for (const field of ["recipients", "queued", "sent", "failed"]) {
      setField(row, field, campaign[field]);
    }
    const badge = row.querySelector('[data-field="state"]');
    if (badge && row.dataset.state !== campaign.state) {
      badge.classList.remove(`campaign-${row.dataset.state}`);
      badge.classList.add(`campaign-${campaign.state}`);
      badge.textContent = campaign.state_label;
      row.dataset.state = campaign.state;
    }
  }
}

function anyUnsettled() {
  return [...root.querySelectorAll("[data-campaign]")].some((row) =>
    UNSETTLED.has(row.dataset.state),
  );
}

if (root && window.fetch) {
  const url = root.dataset.url;
  const interval = parseInt(root.dataset.interval, 10) || 5000;
  let timer = null;

  const schedule = () => {
    clearTimeout(timer);
    // A hidden tab needs no live figures; it catches up when shown again.
    if (!document.hidden && anyUnsettled()) timer = setTimeout(refresh, interval);
  };

  async function refresh() {
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.redirected || !response.ok) throw new Error(`HTTP ${response.status}`);
      apply(await response.json());
    } catch {
      // Offline for a moment: keep the figures shown and try again later.
    }
    schedule();
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  schedule();
}
