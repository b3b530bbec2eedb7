import { verifyWebhook, WebhookVerificationError } from "@plangate/client";

/** plangate's outbound webhooks. Register this URL with plangate
 * (`POST /v1/webhook-endpoints`) and give this app the `whsec_` secret it answers. */
interface Received {
  id: string;
  type: string;
  customer_id: string | null;
  /** For `customer.entitlementsChanged`: the plans the customer has now. */
  plans: string[] | null;
}

interface Event {
  type?: string;
  data?: { payer?: { customer_id?: string }; customer?: { id?: string }; plans?: string[] };
}

// An example keeps what it received in memory; an app would act on it (send an email,
// refresh a cache) and record the id to ignore a redelivery.
const received: Received[] = [];

export async function POST(request: Request) {
  const secret = process.env.PLANGATE_WEBHOOK_SECRET;
  if (!secret) return Response.json({ error: "PLANGATE_WEBHOOK_SECRET is not set" }, { status: 500 });
  try {
    const { id, payload } = await verifyWebhook<Event>(secret, await request.text(), request.headers);
    const { type, data } = payload;
    if (!received.some((r) => r.id === id)) {
      const customer = data?.payer?.customer_id ?? data?.customer?.id ?? null;
      received.push({ id, type: String(type), customer_id: customer, plans: data?.plans ?? null });
    }
    return new Response(null, { status: 204 });
  } catch (error) {
    if (error instanceof WebhookVerificationError) return Response.json({ error: error.code }, { status: 400 });
    throw error;
  }
}

/** What arrived, for the example's own test. */
export async function GET() {
  return Response.json({ data: received });
}
