const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** The distinct `{{field}}` names a template uses, in order of first use. */
export function placeholders(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

/** Fills `{{field}}` placeholders. Returns the names that had no value instead of rendering blanks. */
export function render(template: string, vars: Record<string, unknown>): { text: string; missing: string[] } {
  const missing: string[] = [];
  const text = template.replace(PLACEHOLDER, (_, name: string) => {
    const v = vars[name];
    if (v === undefined || v === null) {
      missing.push(name);
      return '';
    }
    return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  return { text, missing };
}

/** Expands `${VAR}` and `${VAR:-default}`; reports variables that are unset and have no default. */
export function expandVars(
  text: string,
  vars: Record<string, string | undefined>,
): { text: string; missing: string[]; usedVar: boolean } {
  const missing: string[] = [];
  let usedVar = false;
  const out = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, def: string | undefined) => {
      const v = vars[name];
      if (v !== undefined && v !== '') {
        usedVar = true;
        return v;
      }
      if (def !== undefined) return def;
      missing.push(name);
      return '';
    },
  );
  return { text: out, missing, usedVar };
}
