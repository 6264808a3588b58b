/**
 * Splits a streamed JSON answer shaped `{ …, "<key>": [ {…}, {…}, … ], … }` into the text of each element of the
 * array under `<key>`, as the bytes arrive, so that each element can be parsed (JSON.parse) and dropped on its own.
 *
 * Why not JSON.parse of the whole answer: GET /v2/apps with tasks is megabytes (3 MB for 1,000 apps × 5 tasks), and
 * parsing it whole keeps the answer's bytes, its string and every app object alive at once; the autoscaler reads it
 * every cycle and keeps a few fields of each app. Why not a streaming JSON library: those tokenize every value into JS
 * objects, many times the work of JSON.parse. This only finds where each element starts and ends (strings, escapes and
 * nesting) and leaves the parsing to JSON.parse; a syntax error inside an element surfaces there.
 */
export class JsonArrayElements {
  /** Nesting: 1 inside the top-level object, 2 inside the array, 3 inside an element. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectingKey = false;
  /** Bytes of the top-level key being read (keys are short; only depth 1 keys are kept). */
  private keyBytes: number[] | null = null;
  private lastKey = '';
  private inArray = false;
  /** Inside the array: true after "[" or ",", where an element must come next. */
  private elementExpected = false;
  private arrayDone = false;
  private rootDone = false;
  /** Earlier parts of the element being read when it spans chunks. */
  private pending: Buffer[] = [];
  private elements = 0;

  constructor(
    private readonly key: string,
    private readonly onElement: (text: string, index: number) => void,
    /** Makes the error for a JSON path and what was expected there, when the envelope is not as expected. */
    private readonly fail: (path: string, expected: string) => Error,
  ) {}

  /** Feeds the next bytes of the answer; calls onElement for every element completed in them. */
  push(chunk: Buffer): void {
    // Where the current element starts in this chunk: 0 when it began in an earlier one.
    let start = this.pending.length > 0 ? 0 : -1;
    for (let index = 0; index < chunk.length; index++) {
      if (this.inString && this.keyBytes === null) {
        // Most bytes are inside strings: jump to the closing quote instead of looking at each byte.
        index = this.skipString(chunk, index);
        continue;
      }
      const byte = chunk[index] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) {
          this.escaped = true;
          // Keys are compared undecoded: one with an escape (`"apps\n"`, `"ap\u0070s"`) is kept with its backslash and
          // so never taken for the key looked for (Marathon writes none).
          if (this.keyBytes !== null) this.keyBytes.push(byte);
        } else if (byte === QUOTE) {
          this.inString = false;
          if (this.keyBytes !== null) {
            this.lastKey = Buffer.from(this.keyBytes).toString('utf8');
            this.keyBytes = null;
          }
        } else if (this.keyBytes !== null) this.keyBytes.push(byte);
        continue;
      }
      if (byte === SPACE || byte === NEWLINE || byte === RETURN || byte === TAB) continue;
      if (this.depth === 0 && (this.rootDone || byte !== OPEN_BRACE)) throw this.fail('(root)', 'expected one JSON object');
      const betweenElements = this.inArray && this.depth === 2;
      if (betweenElements) this.checkBetweenElements(byte);
      const elementBegins = betweenElements && byte === OPEN_BRACE;
      switch (byte) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.expectingKey) this.keyBytes = [];
          break;
        case COLON:
          if (this.depth === 1) this.expectingKey = false;
          break;
        case COMMA:
          if (this.depth === 1) {
            this.expectingKey = true;
            this.lastKey = '';
          }
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          if (elementBegins) start = index;
          if (this.depth === 1 && byte === OPEN_BRACKET && this.lastKey === this.key && !this.arrayDone) {
            this.inArray = true;
            this.elementExpected = true;
          }
          this.depth += 1;
          if (this.depth === 1) this.expectingKey = true;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          this.depth -= 1;
          if (this.inArray && this.depth === 2) {
            this.emit(chunk, start, index + 1);
            start = -1;
          } else if (this.inArray && this.depth === 1) {
            this.inArray = false;
            this.arrayDone = true;
          } else if (this.depth === 0) {
            this.rootDone = true;
          }
          break;
      }
    }
    // An element that goes on in the next chunk: keep its bytes so far.
    if (start !== -1) this.pending.push(chunk.subarray(start));
  }

  /** Directly inside the array only elements (objects), commas between them and the closing bracket may come. */
  private checkBetweenElements(byte: number): void {
    const where = `${this.key}.${this.elements}`;
    if (byte === OPEN_BRACE) {
      if (!this.elementExpected) throw this.fail(where, 'a comma before the next element');
      this.elementExpected = false;
    } else if (byte === COMMA) {
      if (this.elementExpected) throw this.fail(where, 'expected an object');
      this.elementExpected = true;
    } else if (byte === CLOSE_BRACKET) {
      if (this.elementExpected && this.elements > 0) throw this.fail(where, 'expected an object (a comma ends the list)');
    } else {
      throw this.fail(where, 'expected an object');
    }
  }

  /**
   * From `index` inside a (non-key) string, returns the index of its closing quote, leaving the string; or, when the
   * string goes on in the next chunk, the chunk's last index, remembering whether it ended in the middle of an escape.
   */
  private skipString(chunk: Buffer, index: number): number {
    let from = index;
    if (this.escaped) {
      // The previous chunk ended with a backslash: this byte is the escaped character.
      this.escaped = false;
      from += 1;
    }
    for (;;) {
      const quote = chunk.indexOf(QUOTE, from);
      const end = quote === -1 ? chunk.length : quote;
      // Backslashes right before the quote (or the chunk's end): an odd run escapes it.
      let backslashes = 0;
      while (end - backslashes - 1 >= from && chunk[end - backslashes - 1] === BACKSLASH) backslashes += 1;
      if (quote === -1) {
        this.escaped = backslashes % 2 === 1;
        return chunk.length - 1;
      }
      if (backslashes % 2 === 0) {
        this.inString = false;
        return quote;
      }
      from = quote + 1;
    }
  }

  /** Call when the answer is complete: checks that the array was there and nothing was cut short. Returns the count. */
  end(): number {
    if (!this.rootDone) throw this.fail('(root)', 'complete JSON (the answer ends early)');
    if (!this.arrayDone) throw this.fail(this.key, 'expected an array');
    return this.elements;
  }

  private emit(chunk: Buffer, start: number, end: number): void {
    let text: string;
    if (this.pending.length > 0) {
      this.pending.push(chunk.subarray(0, end));
      text = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
    } else {
      text = chunk.toString('utf8', start, end);
    }
    const index = this.elements;
    this.elements += 1;
    this.onElement(text, index);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const TAB = 0x09;
