// Markdown that repro writes (report.md, checklist.md, `repro compare --markdown`) holds strings it
// did not write: a workflow's titles, names, claims and licences, a results file's keys. These put
// them in as text, never as markup: the Markdown goes into pull-request comments, where a stranger's
// workflow must not add a badge, a link or HTML.

/**
 * Text that repro did not write (a workflow's titles, names, claims and licences; a results file's
 * keys), as Markdown shows it: as text and nothing else. Line breaks become spaces, so a string can
 * neither end the table row or list item it is in nor start a block; then every character that opens
 * inline syntax is backslash-escaped: emphasis and strikethrough (* _ ~), code (`), links, images and
 * footnotes ([ ]: without them `(` and `!` are plain), raw HTML and entities (< > &), math ($), table
 * pipes (|), and GFM's autolinks (the `:` before `//`, the `@` of an address, the dot after `www`).
 */
export function escapeMd(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_~[\]<>&$|@]|:(?=\/\/)/g, '\\$&')
    .replace(/\b(www)\./gi, '$1\\.');
}

/** Text shown as inline code (a command, a step id): a backtick fence longer than any run inside it, and no row-breaking pipes or lines. */
export function mdCode(s: string): string {
  const text = s.replace(/\r\n|\r|\n/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A link destination: characters that could end it or start new markup are percent-encoded. */
export function mdUrl(url: string): string {
  return url.replace(/[\s()<>[\]`"'|\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
