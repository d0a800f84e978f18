export * from './stripe-event';
export * from './dunning';
