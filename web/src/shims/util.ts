// `node:util` for the page. Only command-line parsing imports it, and the page never parses a command
// line, so calling it is a bug.

export function parseArgs(): never {
  throw new Error('parseArgs is not available in the browser');
}

export default { parseArgs };
