import * as s from '../schema/index.js';
import { WireError } from './errors.js';
import { envelopeSchema } from './header.js';
import { typeName, type Envelope } from './shape.js';

/** A message type: its name, the schema of its body and of its whole envelope. Made by defineMessage. */
export interface MessageType<T extends string = string, B = unknown> {
  readonly type: T;
  readonly body: s.Schema<B>;
  readonly envelope: s.Schema<Envelope<T, B>>;
}

/** The envelope type that a union of message types can decode to, as a union narrowed by `type`. */
export type EnvelopeOf<M> = M extends MessageType<infer T, infer B> ? Envelope<T, B> : never;

// Only descriptors made here are accepted, so every registered type checks its own name.
const defined = new WeakSet<object>();

/** Declares a message type; rooms export these and the agent composes them into a registry. */
export function defineMessage<const T extends string, B>(type: T, body: s.Schema<B>): MessageType<T, B> {
  try {
    typeName.parse(type, 'type');
  } catch (err) {
    if (err instanceof s.SchemaError) throw new WireError('ARGUMENT', `defineMessage: ${err.message}`, { cause: err });
    throw err;
  }
  if (typeof body !== 'object' || body === null || typeof body.parse !== 'function') {
    throw new WireError('ARGUMENT', `defineMessage(${type}): the body must be a schema`);
  }
  const whole = envelopeSchema(body);
  const envelope: s.Schema<Envelope<T, B>> = {
    expected: `a ${type} envelope`,
    parse(value: unknown, path = ''): Envelope<T, B> {
      const parsed = whole.parse(value, path);
      if (parsed.type !== type) throw new s.SchemaError(path === '' ? 'type' : `${path}.type`, JSON.stringify(type), s.describe(parsed.type));
      // The shape matches Envelope<T, B> field for field; object() cannot express the literal type name.
      return parsed as unknown as Envelope<T, B>;
    },
  };
  const message: MessageType<T, B> = Object.freeze({ type, body, envelope });
  defined.add(message);
  return message;
}

/** The message types a decoder accepts. Immutable: `with` returns a larger registry. */
export class MessageRegistry<M extends MessageType = never> {
  readonly #types: ReadonlyMap<string, M>;

  private constructor(types: ReadonlyMap<string, M>) {
    this.#types = types;
  }

  /** A registry of exactly these message types; their names must differ. */
  static of<const Ms extends readonly MessageType[]>(...messages: Ms): MessageRegistry<Ms[number]> {
    return new MessageRegistry<never>(new Map<string, never>()).with(...messages);
  }

  /** A new registry that also accepts `messages`; this one is unchanged. */
  with<const Ms extends readonly MessageType[]>(...messages: Ms): MessageRegistry<M | Ms[number]> {
    const types = new Map<string, M | Ms[number]>(this.#types);
    for (const message of messages) {
      if (typeof message !== 'object' || message === null || !defined.has(message)) {
        throw new WireError('ARGUMENT', 'a registry only takes message types made by defineMessage');
      }
      if (types.has(message.type)) throw new WireError('ARGUMENT', `message type ${message.type} is registered twice`);
      types.set(message.type, message);
    }
    return new MessageRegistry(types);
  }

  /** The message type registered under `type`, if any. */
  get(type: string): M | undefined {
    return this.#types.get(type);
  }

  /** The registered type names, in registration order. */
  get types(): string[] {
    return [...this.#types.keys()];
  }
}
