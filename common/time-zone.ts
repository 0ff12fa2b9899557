/** True when `zone` is an IANA time zone this Node.js knows (`Europe/Berlin`, `UTC`, …). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
