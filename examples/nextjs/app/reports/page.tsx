import { currentUser } from "@/lib/auth";
import { plangate } from "@/lib/plangate";

/** A server component gated on the server: the reports render only for a Pro customer. */
export default async function Reports() {
  const user = await currentUser();
  if (!user) return <p>Sign in first: <a href="/">home</a>.</p>;
  const pro = await plangate.customer("user", user).has({ plan: "pro" });
  if (!pro) {
    return (
      <>
        <h1>Reports</h1>
        <p data-testid="locked">Reports are a Pro feature. <a href="/">Upgrade to Pro</a>.</p>
      </>
    );
  }
  const credits = await plangate.customer("user", user).item("credits");
  return (
    <>
      <h1>Pro reports</h1>
      <p data-testid="report">{user} has {credits.quantity} credits left this month.</p>
      <p><a href="/">Home</a></p>
    </>
  );
}
