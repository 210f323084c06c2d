/*
 * What the page keeps in localStorage across reloads: the offline queue, the
 * site's list, this device's name and its chosen camera. Private browsing may
 * refuse the storage; the page then keeps going in memory.
 */

export function load(key, fallback) {
  try {
    const value = window.localStorage.getItem(key);
    return value ? JSON.parse(value) : fallback;
  } catch {
    return fallback;
  }
}

export function save(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch { /* full or unavailable: keep going in memory */ }
}
