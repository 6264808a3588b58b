// The one place that removes credentials from text the daemon shows: every log line, every API answer, every error kept
// for /readyz. Upstream servers are not trusted to keep secrets to themselves (an error page may echo the request's
// Authorization header), so scrubbing works on patterns as well as on the values we know.

export type Scrub = (text: string) => string;

const MASK = '***';
/** Shorter values would shred ordinary text; the patterns below still catch them in their usual places. */
const MIN_SECRET_LENGTH = 4;

const PATTERNS: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  // userinfo in any URL: scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, `$1${MASK}@`],
  // HTTP Basic / Bearer credentials wherever they are echoed (headers, HTML, JSON)
  [/\b(Basic|Bearer)(\s+)([A-Za-z0-9+/=._~-]{6,})/g, (match, scheme, space, value) => (looksLikeWord(value) ? match : `${scheme}${space}${MASK}`)],
  // DC/OS "Authorization: token=…", and token= / password= parameters
  [/\b(token|access_token|password|passwd|p)=[^\s&"'<>,;]+/gi, `$1=${MASK}`],
  // a header named Authorization with any other scheme
  [/\b(authorization["']?\s*[:=]\s*["']?)(?!\s|Basic\b|Bearer\b|token=)[^\s"'<>,;][^\r\n"'<>,;]*/gi, `$1${MASK}`],
];

/**
 * A scrubber for `secrets` (passwords, tokens, "user:password" pairs as configured) and every form in which they travel:
 * the password alone, base64 of the pair (HTTP Basic), percent-encoded.
 */
export function createScrubber(secrets: string[]): Scrub {
  const values = new Set<string>();
  for (const secret of secrets) {
    for (const form of secretForms(secret)) if (form.length >= MIN_SECRET_LENGTH) values.add(form);
  }
  // Longest first: a password inside a pair must not leave the rest of the pair behind.
  const known = [...values].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const value of known) if (out.includes(value)) out = out.split(value).join(MASK);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement as (match: string) => string);
    return out;
  };
}

/** "Basic authentication", "Bearer Token": prose, not a credential (credentials mix case, digits or symbols). */
function looksLikeWord(value: string): boolean {
  return /^[A-Z]?[a-z]+$/.test(value);
}

function secretForms(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret)];
  const colon = secret.indexOf(':');
  if (colon >= 0) {
    const password = secret.slice(colon + 1);
    forms.push(password, encodeURIComponent(password));
    const base64 = Buffer.from(secret, 'utf8').toString('base64');
    forms.push(base64, base64.replace(/=+$/, ''));
  }
  return forms;
}

/** "user:password" pairs a URL carries in its userinfo (decoded), so they are scrubbed in every form too. */
export function urlCredentials(url: string): string[] {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return [];
    return [`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`];
  } catch {
    return [];
  }
}

/** The URL without userinfo, for log lines and answers. */
export function withoutUserinfo(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(PATTERNS[0]![0], `$1${MASK}@`);
  }
}
