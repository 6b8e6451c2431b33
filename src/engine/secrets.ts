// Secret values (params marked `secret`, credentials a step reads through ctx.secret) are masked
// in every line the engine writes: logs, events, errors, and run.json as a last safety net.

/** Values shorter than this are not masked inside free text (a secret '1' would mangle every number); params are still replaced by name. */
export const MIN_MASKED_LENGTH = 4;
export const MASK = '***';

export class SecretMask {
  private readonly values = new Set<string>();

  add(value: unknown): void {
    if (typeof value === 'string' && value.length >= MIN_MASKED_LENGTH) this.values.add(value);
    else if (typeof value === 'number' || typeof value === 'boolean') this.add(String(value));
  }

  get size(): number {
    return this.values.size;
  }

  mask(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(v)) out = out.split(v).join(MASK);
    }
    return out;
  }

  /** Masks inside JSON text: a secret appears there JSON-escaped. */
  maskJsonText(json: string): string {
    if (this.values.size === 0) return json;
    let out = json;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      const escaped = JSON.stringify(v).slice(1, -1);
      if (out.includes(escaped)) out = out.split(escaped).join(MASK);
    }
    return out;
  }

  /** A copy of a JSON-like value with every string masked. */
  maskDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.mask(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}
