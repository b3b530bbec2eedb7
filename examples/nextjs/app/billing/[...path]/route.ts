/** The browser reaches plangate through this app (`/billing/v1/...`), so the customer-session
 * client needs no CORS and plangate's address stays a server setting (PLANGATE_URL, read at
 * run time). Only what the client sends and plangate answers is passed on; cookies are not. */
const FORWARDED = ["accept", "authorization", "content-type", "idempotency-key"];

async function forward(request: Request, { params }: { params: Promise<{ path: string[] }> }) {
  const { path } = await params;
  const base = (process.env.PLANGATE_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
  const url = `${base}/${path.map(encodeURIComponent).join("/")}${new URL(request.url).search}`;
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  const answer = await fetch(url, { method: request.method, headers, body, cache: "no-store", redirect: "manual" });
  const out = new Headers();
  for (const name of ["content-type", "retry-after", "x-request-id"]) {
    const value = answer.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  return new Response(answer.body, { status: answer.status, headers: out });
}

export { forward as DELETE, forward as GET, forward as PATCH, forward as POST, forward as PUT };
