import { useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { GlassButton } from "../ui/GlassButton";
import { GlassCard } from "../ui/GlassCard";
import { formatDate } from "../ui/format";
import { GenerationModal } from "./GenerationModal";
import { useConversations, useCreateConversation, useMessages, useSendMessage } from "./queries";
import { useConversationEvents } from "./useConversationEvents";

const GENERATE_PREFIX = "/masterplan ";

function ConversationList({ activeId }: { activeId: string | undefined }) {
  const conversations = useConversations();
  const create = useCreateConversation();
  const navigate = useNavigate();
  return (
    <GlassCard heading="Conversations">
      <GlassButton variant="primary" disabled={create.isPending} onClick={() => create.mutate(undefined, { onSuccess: ({ id }) => navigate(`/chat/${id}`) })}>
        New conversation
      </GlassButton>
      {conversations.error && <p className="error-text">{conversations.error.message}</p>}
      <ul className="list" style={{ marginTop: "0.75rem" }}>
        {conversations.data?.items.map((conversation) => (
          <li key={conversation.id}>
            <Link
              to={`/chat/${conversation.id}`}
              className={`glass-button${conversation.id === activeId ? " active" : ""}`}
              aria-current={conversation.id === activeId ? "page" : undefined}
            >
              {conversation.title || formatDate(conversation.created_at)}
            </Link>
          </li>
        ))}
      </ul>
    </GlassCard>
  );
}

export function ChatPage() {
  const { conversationId } = useParams();
  const navigate = useNavigate();
  const messages = useMessages(conversationId);
  const create = useCreateConversation();
  const send = useSendMessage();
  const events = useConversationEvents(conversationId);
  const [draft, setDraft] = useState("");
  const generationId = events.generationId;
  const planFromReply =
    generationId === null ? null : (messages.data?.items.find((message) => message.generation_id === generationId && message.masterplan_id)?.masterplan_id ?? null);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = draft.trim();
    if (!content) return;
    const generating = content.startsWith(GENERATE_PREFIX);
    const id = conversationId ?? (await create.mutateAsync()).id;
    if (id !== conversationId) navigate(`/chat/${id}`);
    if (generating) events.startGeneration(id !== conversationId);
    setDraft("");
    const reply = await send.mutateAsync({ conversationId: id, content }).catch(() => null);
    if (generating && reply) events.identifyGeneration(reply.generation_id ?? null);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <div className="grid-2">
      <ConversationList activeId={conversationId} />
      <GlassCard heading="Chat">
        <div className="messages" aria-live="polite" aria-label="Messages">
          {messages.data?.items.map((message) => (
            <div key={message.id} className={`message message--${message.role}`}>
              {message.content}
              {message.masterplan_id && (
                <div>
                  <Link to={`/plans/${message.masterplan_id}`}>Open the plan</Link>
                </div>
              )}
            </div>
          ))}
          {events.streaming.map((message) => (
            <div key={message.id} className="message message--assistant" aria-busy="true">
              {message.text}
            </div>
          ))}
          {!conversationId && (
            <p className="muted">
              Describe what you want to build, or type <code>/masterplan &lt;request&gt;</code> to generate a plan.
            </p>
          )}
        </div>
        <form onSubmit={submit} style={{ marginTop: "1rem", display: "grid", gap: "0.5rem" }}>
          <label>
            Message
            <textarea
              rows={3}
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              onKeyDown={onKeyDown}
              placeholder="/masterplan a todo REST API with users and tags"
            />
          </label>
          <div className="row spread">
            <span className="muted">Enter sends, Shift+Enter adds a line.</span>
            <GlassButton type="submit" variant="primary" disabled={send.isPending || draft.trim() === ""}>
              Send
            </GlassButton>
          </div>
          {(send.error ?? create.error) && <p className="error-text" role="alert">{(send.error ?? create.error)?.message}</p>}
        </form>
      </GlassCard>
      {events.generation && <GenerationModal progress={events.generation} planFromReply={planFromReply} onClose={events.closeGeneration} />}
    </div>
  );
}
