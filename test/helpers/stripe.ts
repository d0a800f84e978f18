import Stripe from 'stripe';
import { buildTestEvent, type TestEventOptions } from '../../src/catalog/fixtures';

/** A signed Stripe webhook request, exactly as Stripe would send it. */
export function signedEvent(secret: string, type = 'charge.failed', opts: TestEventOptions = {}) {
  const event = buildTestEvent(type, opts);
  const payload = JSON.stringify(event);
  return { event, payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
}

export function postWebhook(url: string, payload: string, signature?: string, contentType = 'application/json') {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
}
