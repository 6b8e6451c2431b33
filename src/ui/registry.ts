// A results registry's submissions beside the local runs (`repro ui --registry URL`). The ui sits on
// the same row as share and may not import it: the CLI hands in a reader that does the cloning and
// checking (src/share/registry.ts: signature, schema, size bounds) and maps each submission onto
// the few fields drawn here. Only what the reader accepted (signed by a key the registry holds) is
// drawn; the rest is listed apart, and every string of it is escaped like any other.

export interface RegistryEntry {
  /** The payload's sha256, first 12 hex digits (or the file name's start for a rejected file). */
  id: string;
  /** The file, relative to the registry's root. */
  file: string;
  status: 'accepted' | 'unverified' | 'rejected';
  /** Why unverified or rejected. */
  reason: string | null;
  /** The accepting key's name (or id). */
  signer: string | null;
  /** CPU · GPU · engine, as `repro results` names it. */
  machine: string | null;
  /** The submitted run's id: its start time, as run ids begin with it. */
  run: string | null;
  commit: string | null;
  profile: string | null;
  /** Variant (group) → metric → one value per seed or fold; null for a rejected file. */
  variants: Record<string, Record<string, number[]>> | null;
}

export interface RegistryRead {
  entries: RegistryEntry[];
  problems: string[];
}

export interface RegistrySource {
  /** As given on the command line: shown on the page. */
  url: string;
  read(workflow: string): Promise<RegistryRead>;
}

/** What the across-runs page gets: the submissions of its workflow, or why there are none. */
export type RegistryView = { url: string } & ({ read: RegistryRead; error?: undefined } | { error: string; read?: undefined });

/** Re-read a workflow's submissions (a clone of the registry) at most this often. */
export const REGISTRY_TTL_MS = 60_000;

/** Reads each workflow's submissions once per REGISTRY_TTL_MS; concurrent pages share one read. */
export function registryCache(source: RegistrySource, now = () => Date.now()): (workflow: string) => Promise<RegistryView> {
  const cache = new Map<string, { at: number; view: Promise<RegistryView> }>();
  return (workflow) => {
    const hit = cache.get(workflow);
    if (hit && now() - hit.at < REGISTRY_TTL_MS) return hit.view;
    const view = source.read(workflow).then(
      (read): RegistryView => ({ url: source.url, read }),
      (err: unknown): RegistryView => ({ url: source.url, error: String((err as Error)?.message ?? err) }),
    );
    cache.set(workflow, { at: now(), view });
    return view;
  };
}

/** The UTC start time a run id begins with ('20250131-123005-ab12' or '20250131T123005Z-…'), or null. */
export function runIdTime(id: string | null): string | null {
  const m = id?.match(/^(\d{4})(\d{2})(\d{2})[-T](\d{2})(\d{2})(\d{2})/);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}
