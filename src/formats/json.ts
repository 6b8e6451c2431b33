// JSON that a step or a results file hands to repro (value outputs, metrics.json, history.json) is
// someone else's text. JSON.parse reads any depth, but everything after it that walks the value
// (hashing, run.json, reports) recurses, so a value nested 200,000 levels deep would end as
// "Maximum call stack size exceeded" somewhere far from the file. The depth is checked first, here.

/** The deepest nesting accepted: results are tables of numbers, a few levels deep. */
export const MAX_JSON_DEPTH = 256;

/** Where `text` nests objects and arrays deeper than `max` (the offset of the opening bracket), or null. */
export function tooDeep(text: string, max = MAX_JSON_DEPTH): number | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return null;
}

/**
 * What is wrong with `text`'s depth, as an error says it after naming the file
 * (`m.json nests objects or arrays more than 256 levels deep (at character 1280)`), or null.
 */
export function depthProblem(text: string): string | null {
  const at = tooDeep(text);
  return at === null ? null : `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep (at character ${at})`;
}
