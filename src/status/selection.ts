// Which datacenters `baton status --dc` shows. Pure: environments in, environments (with fewer datacenters) out.

/** A flag given several times, each time possibly a comma-separated list: ["AA,BB", "CC"] → ["AA", "BB", "CC"], duplicates dropped. */
export function splitList(values: readonly string[]): string[] {
  const names = values.flatMap((value) => value.split(',')).map((name) => name.trim());
  return [...new Set(names.filter((name) => name !== ''))];
}

export type DatacenterSelection<E> = { ok: true; environments: E[] } | { ok: false; unknown: string[]; known: string[] };

/**
 * Keeps only the named datacenters of each environment (none named, or just "all": every datacenter). A name counts when
 * at least one of the environments has it, so `--dc AA` without `--env` means AA wherever there is one; a name none has is
 * reported with every name they do have. An environment without any named datacenter stays, with no datacenters.
 */
export function selectDatacenters<E extends { datacenters: readonly { name: string }[] }>(
  environments: readonly E[],
  names: readonly string[],
): DatacenterSelection<E> {
  if (names.length === 0 || (names.length === 1 && names[0] === 'all')) return { ok: true, environments: [...environments] };
  const known = [...new Set(environments.flatMap((e) => e.datacenters.map((d) => d.name)))];
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) return { ok: false, unknown, known };
  return { ok: true, environments: environments.map((e) => ({ ...e, datacenters: e.datacenters.filter((d) => names.includes(d.name)) })) };
}
