/*
 * The camera: badges scanned with the vendored qr-scanner (window.QrScanner,
 * loaded the first time the camera starts: typed codes and hand scanners need
 * none of it), and the camera chosen on this device.
 */
import { load, save } from "./storage.js";
import { $ } from "./ui.js";

const CAMERA_KEY = "hybriddesk:camera";

let loading = null;

/** Loads qr-scanner's script from `url` once; resolves when window.QrScanner is there. */
function loadLibrary(url) {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = () => { loading = null; reject(new Error("qr-scanner did not load")); };
      document.head.append(script);
    });
  }
  return loading;
}

/**
 * Wires the camera buttons. `onCode(code)` checks a scanned code in; while
 * `isBusy()` holds, scans are ignored. `text` is the page's messages, `library`
 * the URL of qr-scanner's script.
 */
export function setUpCamera({ text: T, library, onCode, isBusy }) {
  let scanner = null;
  let cameras = [];
  let lastCode = "";
  let lastCodeAt = 0;
  const cameraToggle = $("camera-toggle");
  const cameraSwitch = $("camera-switch");

  function cameraMessage(message) {
    const element = $("camera-message");
    element.textContent = message;
    element.hidden = !message;
  }

  function onScan(result) {
    const code = typeof result === "string" ? result : result.data;
    const now = Date.now();
    // The camera sees the same badge many times a second; act on it once.
    if (!code || isBusy() || (code === lastCode && now - lastCodeAt < 4000)) return;
    lastCode = code;
    lastCodeAt = now;
    onCode(code);
  }

  async function startCamera() {
    try {
      await loadLibrary(library);
    } catch {
      cameraMessage(T.camera_unavailable);
      return;
    }
    if (!window.QrScanner || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraMessage(T.camera_unavailable);
      return;
    }
    scanner = new window.QrScanner($("camera-video"), onScan, {
      preferredCamera: load(CAMERA_KEY, "environment"),
      // The page's own frame: the library's built-in one, and its code outline, carry
      // inline styles, which the Content-Security-Policy refuses.
      overlay: $("camera-overlay"),
      highlightScanRegion: true,
      returnDetailedScanResult: true,
      maxScansPerSecond: 8,
    });
    try {
      await scanner.start();
    } catch {
      scanner.destroy();
      scanner = null;
      cameraMessage(T.camera_unavailable);
      return;
    }
    cameraMessage("");
    $("camera").hidden = false;
    cameraToggle.textContent = T.camera_stop;
    try {
      cameras = await window.QrScanner.listCameras(true);
    } catch {
      cameras = [];
    }
    cameraSwitch.hidden = cameras.length < 2;
  }

  function stopCamera() {
    if (scanner) {
      scanner.stop();
      scanner.destroy();
      scanner = null;
    }
    $("camera").hidden = true;
    cameraSwitch.hidden = true;
    cameraToggle.textContent = T.camera_start;
  }

  if (!window.isSecureContext || !navigator.mediaDevices) {
    cameraMessage(T.camera_unavailable);
    return;
  }
  cameraToggle.hidden = false;
  cameraToggle.addEventListener("click", () => {
    if (scanner) stopCamera(); else startCamera();
  });
  cameraSwitch.addEventListener("click", () => {
    if (!scanner || cameras.length < 2) return;
    const current = load(CAMERA_KEY, "environment");
    const index = cameras.findIndex((camera) => camera.id === current);
    const next = cameras[(index + 1) % cameras.length];
    save(CAMERA_KEY, next.id);
    scanner.setCamera(next.id);
  });
}
