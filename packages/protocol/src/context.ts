/** Who is calling. Established from the access token by the server. */
export interface Principal {
  kind: 'user';
  userId: string;
  username: string;
}

/** The context every procedure receives; the server builds it per connection or HTTP request. */
export interface Context {
  principal: Principal | null;
}
