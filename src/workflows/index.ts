export * from './stripe-event';
export * from './dunning';
export * from './reconcile';
