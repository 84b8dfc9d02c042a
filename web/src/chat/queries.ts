import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";

export const chatKeys = {
  conversations: ["conversations"] as const,
  messages: (id: string) => ["conversations", id, "messages"] as const,
};

export function useConversations() {
  return useQuery({
    queryKey: chatKeys.conversations,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/conversations", { signal })),
  });
}

export function useMessages(conversationId: string | undefined) {
  return useQuery({
    queryKey: chatKeys.messages(conversationId ?? ""),
    enabled: conversationId !== undefined,
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/conversations/{conversation_id}/messages", { params: { path: { conversation_id: conversationId ?? "" } }, signal })),
  });
}

export function useCreateConversation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/conversations")),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: chatKeys.conversations }),
  });
}

export function useSendMessage() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ conversationId, content }: { conversationId: string; content: string }) =>
      unwrap(api.POST("/api/v1/conversations/{conversation_id}/messages", { params: { path: { conversation_id: conversationId } }, body: { content } })),
    onSettled: (_data, _error, { conversationId }) => queryClient.invalidateQueries({ queryKey: chatKeys.messages(conversationId) }),
  });
}
