/*
 * Talking to the JSON API (/api/v1) with the session cookie and the page's
 * CSRF token, and the random ids this device gives its check-ins.
 */

/**
 * A request(method, url, body, { signal }) function that answers { status, data };
 * an AbortController's `signal` cancels it.
 */
export function apiClient(csrfToken) {
  return function request(method, url, body, { signal } = {}) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken },
      signal,
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then((response) =>
      response.json().catch(() => ({})).then((data) => ({ status: response.status, data })));
  };
}

/** A random (version 4) UUID. */
export function newClientId() {
  const cryptoApi = window.crypto;
  // randomUUID exists only in secure contexts (HTTPS or localhost).
  if (cryptoApi && typeof cryptoApi.randomUUID === "function") {
    return cryptoApi.randomUUID();
  }
  const bytes = new Uint8Array(16);
  if (cryptoApi && typeof cryptoApi.getRandomValues === "function") {
    cryptoApi.getRandomValues(bytes);
  } else {
    for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
  return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
    hex.slice(16, 20) + "-" + hex.slice(20);
}
