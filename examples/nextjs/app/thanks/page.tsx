import { setTimeout as sleep } from "node:timers/promises";
import { currentUser } from "@/lib/auth";
import { plangate } from "@/lib/plangate";

/** Checkout's success page. The redirect itself proves nothing: this waits (a few seconds at
 * most) until plangate has synced the payment. */
export default async function Thanks({ searchParams }: { searchParams: Promise<{ session_id?: string }> }) {
  const user = await currentUser();
  const { session_id: sessionId } = await searchParams;
  if (!user || !sessionId) return <p><a href="/">Home</a></p>;
  let session = await plangate.getCheckoutSession(sessionId);
  if (session.customer_id !== user) return <p><a href="/">Home</a></p>;
  for (let i = 0; i < 50 && !session.fulfilled; i++) {
    await sleep(200);
    session = await plangate.getCheckoutSession(sessionId);
  }
  return session.fulfilled ? (
    <>
      <h1>Welcome to Pro</h1>
      <p>
        <a href="/reports">Open the reports</a>
      </p>
    </>
  ) : (
    <>
      <h1>Payment received</h1>
      <p>Your plan is on its way: reload this page in a moment.</p>
    </>
  );
}
