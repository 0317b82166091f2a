import { skipToken, useInfiniteQuery } from '@tanstack/react-query';
import type { Message, RoomStreamItem } from '@tether/protocol';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useMemo, useReducer, useState } from 'react';
import { useTRPC, useTRPCClient } from '../trpc';
import { applyLive, NO_CHANGES, timeline } from './timeline';

const PAGE_SIZE = 50;

/**
 * A room's messages: history pages (newest first, older on demand) plus live
 * events from the newest seq the first page saw, so nothing falls between
 * the two and nothing shows twice.
 */
export function useRoomMessages(roomId: string) {
  const client = useTRPCClient();
  const trpc = useTRPC();
  // Bumped when the server no longer has our resume point (its data was reset): everything is read afresh.
  const [epoch, setEpoch] = useState(0);
  const history = useInfiniteQuery({
    queryKey: ['room-history', roomId, epoch],
    queryFn: ({ pageParam }) =>
      client.messages.list.query({
        roomId,
        limit: PAGE_SIZE,
        ...(pageParam === undefined ? {} : { beforeSeq: pageParam }),
      }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.nextBeforeSeq ?? undefined,
    // Kept current by the subscription, never refetched behind its back.
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
  });
  const [live, apply] = useReducer(applyLive, NO_CHANGES);
  // Fixed once the first page is in: later pages are older and change nothing about where live starts.
  const [since, setSince] = useState<string | null>(null);
  const firstPage = history.data?.pages[0];
  if (since === null && firstPage) setSince(String(firstPage.messages[0]?.seq ?? 0));

  useSubscription(
    trpc.rooms.events.subscriptionOptions(since === null ? skipToken : { roomId, lastEventId: since }, {
      onData: ({ data }: { data: RoomStreamItem }) => apply(data),
      onError: (error) => {
        if (error.data?.resyncHeadSeq == null) return;
        apply({ type: 'reset' });
        setSince(null);
        setEpoch((current) => current + 1);
      },
    }),
  );

  const messages = useMemo(
    () => timeline(history.data?.pages ?? [], live, history.hasNextPage),
    [history.data, live, history.hasNextPage],
  );
  const confirm = useCallback((message: Message) => apply({ type: 'confirmed', message }), []);
  const newestSeq = Math.max(live.lastSeq, messages.at(-1)?.seq ?? 0);
  return {
    messages,
    newestSeq,
    synced: live.synced,
    loading: history.isPending,
    /** The first page failed: nothing to show yet. */
    error: history.data ? null : history.error,
    /** An older page failed: the conversation stays, the error shows by "load older". */
    olderError: history.isFetchNextPageError ? history.error : null,
    retry: () => (history.data ? history.fetchNextPage() : history.refetch()),
    hasOlder: history.hasNextPage,
    loadingOlder: history.isFetchingNextPage,
    loadOlder: () => history.fetchNextPage(),
    confirm,
  };
}
