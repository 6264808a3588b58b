// JSON.parse says what broke but, in Node 20, not always where. A config file error must name the line and column,
// so on failure the text is scanned again by a small strict JSON reader that stops at the first problem.

export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; line: number; column: number; message: string };

export function parseJsonText(text: string): JsonParseResult {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(source) };
  } catch (error) {
    const found = locateJsonError(source) ?? { offset: source.length, message: error instanceof Error ? error.message : String(error) };
    return { ok: false, ...lineAndColumn(source, found.offset), message: found.message };
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class JsonSyntaxError {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** The offset and a description of the first syntax error, or undefined if the text is valid JSON. */
export function locateJsonError(text: string): { offset: number; message: string } | undefined {
  let pos = 0;
  const fail = (message: string, at = pos): never => {
    throw new JsonSyntaxError(at, message);
  };
  const describeHere = () => (pos >= text.length ? 'end of file' : JSON.stringify(text[pos]));
  const skipWhitespace = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };

  const value = (): void => {
    skipWhitespace();
    const c = text[pos];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return;
      }
    }
    if (c === undefined) fail('unexpected end of file: expected a value');
    const word = /^[A-Za-z_]\w*/.exec(text.slice(pos))?.[0];
    fail(word ? `unexpected ${JSON.stringify(word)}: expected a value (strings need double quotes)` : `unexpected ${describeHere()}: expected a value`);
  };

  const object = (): void => {
    pos++;
    skipWhitespace();
    if (text[pos] === '}') {
      pos++;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') {
        fail(text[pos] === '}' ? 'trailing comma: expected another property after ","' : `unexpected ${describeHere()}: expected a property name in double quotes`);
      }
      string();
      skipWhitespace();
      if (text[pos] !== ':') fail(`unexpected ${describeHere()}: expected ":" after the property name`);
      pos++;
      value();
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        return;
      }
      fail(`unexpected ${describeHere()}: expected "," or "}" after a property value`);
    }
  };

  const array = (): void => {
    pos++;
    skipWhitespace();
    if (text[pos] === ']') {
      pos++;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] === ']') fail('trailing comma: expected another value after ","');
      value();
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === ']') {
        pos++;
        return;
      }
      fail(`unexpected ${describeHere()}: expected "," or "]" after an array element`);
    }
  };

  const string = (): void => {
    const start = pos;
    pos++;
    while (pos < text.length) {
      const c = text[pos]!;
      if (c === '"') {
        pos++;
        return;
      }
      if (c === '\\') {
        const escape = text[pos + 1];
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail('invalid \\u escape: expected 4 hex digits');
          pos += 6;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) fail(`invalid escape "\\${escape ?? ''}" in a string`);
        pos += 2;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail(c === '\n' ? 'unterminated string: a line break inside a string must be written \\n' : 'control character in a string: escape it');
      pos++;
    }
    fail('unterminated string: expected a closing double quote', start);
  };

  const number = (): void => {
    const match = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    match.lastIndex = pos;
    const found = match.exec(text);
    if (!found) fail(`invalid number starting with ${describeHere()}`);
    pos += found![0].length;
    if (pos < text.length && /[0-9.eE]/.test(text[pos]!)) fail(`invalid number: unexpected ${describeHere()}`);
  };

  try {
    value();
    skipWhitespace();
    if (pos < text.length) fail(`unexpected ${describeHere()} after the end of the JSON document`);
    return undefined;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { offset: error.offset, message: error.message };
    throw error;
  }
}
