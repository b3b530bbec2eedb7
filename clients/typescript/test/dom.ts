/** A DOM for the React tests (jsdom), installed as globals before React loads. */
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: "http://localhost/" });
Object.assign(globalThis, {
  window: dom.window,
  document: dom.window.document,
  navigator: dom.window.navigator,
  HTMLElement: dom.window.HTMLElement,
  MouseEvent: dom.window.MouseEvent,
});

/** Waits until `find()` returns something, polling the DOM the way a user would look. */
export async function waitFor<T>(find: () => T | null | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== null && found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${document.body.innerHTML}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
