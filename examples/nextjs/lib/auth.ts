import "server-only";
import { jwtVerify, SignJWT } from "jose";
import { cookies } from "next/headers";

/** A stub identity provider: signing in makes an HS256 JWT naming the user, kept in a
 * cookie. A real app gets this from its auth provider (Clerk, Auth.js, Stack Auth...). */
export const SESSION_COOKIE = "example_session";
const ISSUER = "plangate-nextjs-example";

function secret(): Uint8Array {
  const value = process.env.AUTH_SECRET;
  if (!value || value.length < 32) throw new Error("AUTH_SECRET must be set, 32 characters or more");
  return new TextEncoder().encode(value);
}

export async function signIn(userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime("8h")
    .sign(secret());
}

/** The signed-in user's id, or null. */
export async function currentUser(): Promise<string | null> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, secret(), { issuer: ISSUER, algorithms: ["HS256"] });
    return payload.sub ?? null;
  } catch {
    return null;
  }
}
