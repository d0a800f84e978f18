export * from './stripe-event';
