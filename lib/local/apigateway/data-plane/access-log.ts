/**
 * Renders a stage's access-log format the way API Gateway does: each `$context.*` variable
 * becomes its value, and a variable without a value becomes `-`. Access-log formats are not
 * mapping templates (no VTL directives), so a plain substitution is the faithful rendering.
 */
export function renderAccessLogLine(format: string, context: Record<string, unknown>): string {
  return format.replace(/\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)/g, (_reference, path: string) => {
    let value: unknown = context;
    for (const part of path.split('.')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined || value === null || value === '' || typeof value === 'object') return '-';
    return String(value);
  });
}
