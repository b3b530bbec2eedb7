import "server-only";
import { Plangate } from "@plangate/client";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see examples/nextjs/README.md)`);
  return value;
}

/** The server's client: the secret key never reaches the browser. */
export const plangate = new Plangate({
  apiKey: () => required("PLANGATE_SECRET_KEY"),
  baseUrl: process.env.PLANGATE_URL ?? "http://127.0.0.1:8000",
});

/** This app's own origin, where Checkout sends the customer back (list it in plangate's
 * PLANGATE_ALLOWED_ORIGINS). */
export const appUrl = (process.env.APP_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
