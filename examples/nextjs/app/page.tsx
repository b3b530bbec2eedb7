import { currentUser } from "@/lib/auth";
import { appUrl, plangate } from "@/lib/plangate";
import { Billing } from "./billing";

/** Home: the stub sign-in, then the signed-in user's billing (a client component fed with a
 * customer-session token the server mints for this user). */
export default async function Home() {
  const user = await currentUser();
  if (!user) {
    return (
      <>
        <h1>plangate × Next.js</h1>
        <form className="card" method="post" action="/api/sign-in">
          <label htmlFor="user">Your name</label>
          <div className="row">
            <input id="user" name="user" required pattern="[A-Za-z0-9_\-]{1,64}" />
            <button type="submit">Sign in</button>
          </div>
        </form>
      </>
    );
  }
  const { token } = await plangate.createCustomerSession({ user_id: user });
  return (
    <>
      <h1>Hello, {user}</h1>
      <form method="post" action="/api/sign-out">
        <button type="submit">Sign out</button>
      </form>
      <Billing token={token} userId={user} successUrl={`${appUrl}/thanks?session_id={CHECKOUT_SESSION_ID}`} />
    </>
  );
}
