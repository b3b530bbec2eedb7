import { NextResponse } from "next/server";
import { SESSION_COOKIE } from "@/lib/auth";
import { appUrl } from "@/lib/plangate";

export async function POST() {
  const response = NextResponse.redirect(`${appUrl}/`, 303);
  response.cookies.delete(SESSION_COOKIE);
  return response;
}
