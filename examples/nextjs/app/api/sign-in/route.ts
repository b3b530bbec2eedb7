import { NextResponse } from "next/server";
import { SESSION_COOKIE, signIn } from "@/lib/auth";
import { appUrl, plangate } from "@/lib/plangate";

/** The stub sign-in form posts here: any name of letters, digits, `-` and `_` signs in. */
export async function POST(request: Request) {
  const form = await request.formData();
  const userId = String(form.get("user") ?? "").trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(userId)) {
    return NextResponse.redirect(`${appUrl}/?error=name`, 303);
  }
  await plangate.customer("user", userId).upsert({ email: `${userId}@example.com` });
  const response = NextResponse.redirect(`${appUrl}/`, 303);
  response.cookies.set(SESSION_COOKIE, await signIn(userId), { httpOnly: true, sameSite: "lax", path: "/" });
  return response;
}
