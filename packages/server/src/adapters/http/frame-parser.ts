import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { HotlineError } from '../../errors.js';

/**
 * Turns a WebSocket message into a frame of a `{ type }` union, or the catalogue error that says what is wrong
 * with it: `InvalidJson`, `UnknownMessageType` (with the type it carried) or `ValidationFailed` (with the first
 * schema error). Every socket that accepts client frames (the agent channel, the web call) answers bad input the
 * same way.
 */
export function frameParser<S extends TSchema>(
  schema: S,
  types: Iterable<string>,
): (data: unknown) => Static<S> | HotlineError {
  const compiled = TypeCompiler.Compile(schema);
  const known: ReadonlySet<string> = new Set(types);
  return (data) => {
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : String(data);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return new HotlineError('InvalidJson', 'The frame is not valid JSON.');
    }
    if (compiled.Check(value)) return value;
    const type =
      typeof value === 'object' && value !== null && 'type' in value ? (value as { type: unknown }).type : undefined;
    if (typeof type !== 'string' || !known.has(type)) {
      return new HotlineError('UnknownMessageType', `Unknown frame type ${JSON.stringify(type ?? null)}.`, {
        type: type ?? null,
      });
    }
    const first = compiled.Errors(value).First();
    return new HotlineError('ValidationFailed', first ? `${first.path || 'frame'}: ${first.message}.` : undefined);
  };
}
