/**
 * tests/extension/fake-dom — a tiny document for rendering the extension's views in jest without a browser:
 * elements with classes, text, attributes, children and click listeners. Setting `innerHTML` throws, so a
 * view that tried to inject markup fails its test.
 */
import type { DocumentLike, ElementLike } from '../../extension/src/render/dom.js';

/** An element of the fake document. */
export class FakeElement implements ElementLike {
  className = '';
  title = '';
  readonly children: FakeElement[] = [];
  readonly attributes = new Map<string, string>();
  private readonly listeners = new Map<string, Array<(event: unknown) => void>>();
  private text: string | null = null;

  constructor(readonly tagName: string) {}

  get textContent(): string {
    if (this.children.length > 0) return this.children.map((c) => c.textContent).join('');
    return this.text ?? '';
  }

  set textContent(value: string | null) {
    this.children.length = 0;
    this.text = value;
  }

  set innerHTML(_value: string) {
    throw new Error('views must not set innerHTML');
  }

  appendChild(child: ElementLike): unknown {
    if (!(child instanceof FakeElement)) throw new Error('not a fake element');
    this.children.push(child);
    return child;
  }

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  addEventListener(type: string, listener: (event: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  /** Dispatches a click to the listeners. */
  click(): void {
    for (const l of this.listeners.get('click') ?? []) l({ type: 'click' });
  }

  /** This element and all below it, depth first. */
  all(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => c.all())];
  }

  /** Elements below (or this) having CSS class `name`. */
  byClass(name: string): FakeElement[] {
    return this.all().filter((e) => e.className.split(/\s+/).includes(name));
  }

  /** Elements below (or this) with tag `tag`. */
  byTag(tag: string): FakeElement[] {
    return this.all().filter((e) => e.tagName === tag);
  }
}

/** A fake document creating {@link FakeElement}s. */
export const fakeDocument: DocumentLike = {
  createElement: (tag: string) => new FakeElement(tag),
};

/** Casts a rendered view to its fake element. */
export function fake(el: ElementLike): FakeElement {
  if (!(el instanceof FakeElement)) throw new Error('not rendered with the fake document');
  return el;
}
