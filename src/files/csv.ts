/** RFC 4180 field quoting: quote when the value holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A float32 as the shortest decimal that reads back to the same float32; NaN as an empty field (missing). */
export function csvFloat(value: number): string {
  return Number.isNaN(value) ? '' : String(value);
}
