/** One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` → scheme "bearer" + params. */
export interface AuthChallenge {
  /** Lower-cased: "bearer", "basic", … */
  scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235) into its challenges. Quoted values may hold commas
 * (`scope="repository:shop/web:pull,push"`) and escaped quotes. Malformed parts are skipped, never thrown.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let position = 0;
  const skip = (pattern: RegExp) => {
    while (position < header.length && pattern.test(header[position]!)) position += 1;
  };
  const readToken = (): string => {
    const start = position;
    while (position < header.length && /[^\s,=]/.test(header[position]!)) position += 1;
    return header.slice(start, position);
  };
  const readQuoted = (): string => {
    let value = '';
    position += 1; // opening quote
    while (position < header.length && header[position] !== '"') {
      if (header[position] === '\\' && position + 1 < header.length) position += 1;
      value += header[position];
      position += 1;
    }
    position += 1; // closing quote
    return value;
  };

  let current: AuthChallenge | undefined;
  while (position < header.length) {
    skip(/[\s,]/);
    if (position >= header.length) break;
    const token = readToken();
    skip(/\s/);
    if (header[position] === '=' && current) {
      // `token=` may also be the tail of a token68 ("abc=="): only a following value makes it a parameter.
      position += 1;
      skip(/\s/);
      const value = header[position] === '"' ? readQuoted() : readToken();
      current.params[token.toLowerCase()] = value;
    } else if (token !== '') {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
    } else {
      position += 1; // a stray "=" or quote: move on
    }
  }
  return challenges;
}
