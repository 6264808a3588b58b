import { Option } from 'commander';

/**
 * The one `--dc` of every command that targets datacenters: a name, several comma-separated or repeated
 * (`--dc AA,BB`, `--dc AA --dc BB`), or "all". Repeats are joined, so the command sees one comma list.
 */
export function datacenterOption(what = 'only these datacenters'): Option {
  return new Option('--dc <dcs>', `${what}, comma-separated or repeated, or "all" (default: all, in the order listed)`).argParser(
    (value: string, previous: string | undefined) => (previous === undefined ? value : `${previous},${value}`),
  );
}
