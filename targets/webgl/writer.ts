// A line-by-line builder of gpu.js kernel source: the JavaScript subset that gpu.js translates to
// GLSL (and runs as JavaScript in its cpu mode). Every value is a float variable. Integer index
// math is float math made exact by a remainder check, because GLSL ES 1.0 division is not
// guaranteed to be correctly rounded and its int type may be emulated.

/** Formats a float32 value as a literal that gpu.js reads as a float. */
export function floatLiteral(value: number): string {
  const rounded = Math.fround(value);
  // GLSL has no infinity or NaN literal; these products overflow (or cancel) to them in float32.
  if (rounded === Infinity) return '(1.0e30 * 1.0e30)';
  if (rounded === -Infinity) return '(-1.0e30 * 1.0e30)';
  if (Number.isNaN(rounded)) return '(1.0e30 * 1.0e30 - 1.0e30 * 1.0e30)';
  const text = String(rounded);
  const literal = /[.e]/.test(text) ? text : `${text}.0`;
  return rounded < 0 || Object.is(rounded, -0) ? `(${Object.is(rounded, -0) ? '-0.0' : literal})` : literal;
}

/** Formats a non-negative integer constant for float math. */
export function intLiteral(value: number): string {
  return `${value}.0`;
}

export class SourceWriter {
  private readonly lines: string[] = [];
  private depth = 1;
  private counter = 0;
  /** Values already computed in each open block, innermost last, keyed by what they compute. */
  private readonly scopes: Map<string, string>[] = [new Map()];

  /** Returns a variable name not used before in this kernel. */
  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  line(text: string): void {
    this.lines.push(`${'  '.repeat(this.depth)}${text}`);
  }

  /** Declares a constant holding `expression` and returns its name. */
  define(prefix: string, expression: string): string {
    const name = this.fresh(prefix);
    this.line(`const ${name} = ${expression};`);
    return name;
  }

  /** Returns the variable that `key` names in an open block, or computes it with `make` and records it. */
  memo(key: string, make: () => string): string {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const found = this.scopes[s]!.get(key);
      if (found !== undefined) return found;
    }
    const name = make();
    this.scopes[this.scopes.length - 1]!.set(key, name);
    return name;
  }

  /** Opens a block (a loop or if body) whose values are not visible after it closes. */
  open(header: string): void {
    this.line(`${header} {`);
    this.depth++;
    this.scopes.push(new Map());
  }

  close(): void {
    this.scopes.pop();
    this.depth--;
    this.line('}');
  }

  /**
   * Opens `for` over 0 .. count - 1 with a constant bound, so gpu.js emits the loop as written and
   * no loopMaxIterations cap applies. Returns the loop counter as a float variable.
   */
  openLoop(count: number): string {
    const counter = this.fresh('l');
    this.open(`for (let ${counter} = 0; ${counter} < ${count}; ${counter}++)`);
    return this.define('f', `${counter} * 1.0`);
  }

  /**
   * Emits floor division and the floor remainder of the integer-valued float `a` by the positive
   * integer `d`, exact for |a| < 2^24 and negative `a` included. A float quotient can be off by one
   * near a multiple of d, so the remainder is checked and the quotient corrected. Division by a
   * power of two is exact and needs no correction.
   */
  divmod(a: string, d: number): { quotient: string; remainder: string } {
    if (d === 1) return { quotient: a, remainder: '0.0' };
    return this.memoPair(`divmod(${a},${d})`, () => {
      const divisor = intLiteral(d);
      const estimate = this.define('q', `Math.floor(${a} / ${divisor})`);
      if (Number.isInteger(Math.log2(d))) {
        return { quotient: estimate, remainder: this.define('r', `${a} - ${estimate} * ${divisor}`) };
      }
      const rough = this.define('r', `${a} - ${estimate} * ${divisor}`);
      const quotient = this.define('q', `${rough} < 0.0 ? ${estimate} - 1.0 : (${rough} >= ${divisor} ? ${estimate} + 1.0 : ${estimate})`);
      return { quotient, remainder: this.define('r', `${a} - ${quotient} * ${divisor}`) };
    });
  }

  private memoPair(key: string, make: () => { quotient: string; remainder: string }): { quotient: string; remainder: string } {
    let pair: { quotient: string; remainder: string } | undefined;
    const quotient = this.memo(`${key}.q`, () => {
      pair = make();
      this.scopes[this.scopes.length - 1]!.set(`${key}.r`, pair.remainder);
      return pair.quotient;
    });
    const remainder = this.memo(`${key}.r`, () => {
      throw new Error(`internal error: remainder of ${key} missing`);
    });
    return { quotient, remainder };
  }

  /** Returns the body lines written so far. */
  body(): string {
    return this.lines.join('\n');
  }
}
