/** Why reading metrics failed: the daemon reports it and holds every app's count for the cycle. */
export type MetricsErrorKind =
  | 'unreachable' // network error, refused, timeout, 5xx
  | 'rejected' // InfluxDB answered 4xx or reported a statement error (unknown database, bad credentials)
  | 'invalid-response'; // an answer that is not InfluxDB's query JSON

/** Never carries a credential: messages name the InfluxDB URL without userinfo and scrub the password. */
export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  readonly kind: MetricsErrorKind;

  constructor(message: string, kind: MetricsErrorKind = 'rejected') {
    super(message);
    this.kind = kind;
  }
}
