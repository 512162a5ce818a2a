package io.switchboard.api.workspace;

import io.switchboard.api.ApiException;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Attachment;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import io.switchboard.store.StoreDurability;
import io.switchboard.store.Transcript;
import org.bson.Document;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * What the agents' workspace needs beyond the queue API: the live stream, collision hints,
 * internal notes, the suggested canned answer, saved views with counts, and who is signed in.
 */
@RestController
class WorkspaceController {

    static final String NOTE_ADDED = "note.added";
    private static final Pattern MENTION = Pattern.compile("(?<![\\w.])@([A-Za-z0-9_.-]{2,64})");

    private final InboxStore store;
    private final MongoTemplate mongo;
    private final KafkaTemplate<String, byte[]> kafka;
    private final LiveHub hub;
    private final Presence presence;
    private final CannedResponses canned;
    private final StoreDurability durability;
    private final Clock clock;
    private final io.switchboard.api.security.Visibility visibility;

    WorkspaceController(InboxStore store, MongoTemplate mongo, KafkaTemplate<String, byte[]> kafka, LiveHub hub,
                        Presence presence, CannedResponses canned, ObjectProvider<StoreDurability> durability,
                        ObjectProvider<Clock> clock, io.switchboard.api.security.Visibility visibility) {
        this.visibility = visibility;
        this.store = store;
        this.mongo = mongo;
        this.kafka = kafka;
        this.hub = hub;
        this.presence = presence;
        this.canned = canned;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /** Live updates: {@code conversation} events (ConversationEvent JSON) and {@code presence} events. */
    @GetMapping(path = "/api/stream", produces = "text/event-stream")
    SseEmitter stream(Authentication user) {
        if (visibility.limit(user).isEmpty()) {
            return hub.open();
        }
        // a limited agent's stream carries only the conversations they may see (checked per event, so team changes apply)
        return hub.open(conversationId -> store.find(conversationId).map(c -> visibility.canSee(user, c)).orElse(true));
    }

    record PresenceBeat(String state) {
    }

    @PostMapping("/api/conversations/{id}/presence")
    Presence.Snapshot presence(@PathVariable String id, @RequestBody(required = false) PresenceBeat body, Authentication user) {
        String state = body == null || body.state() == null ? "viewing" : body.state();
        if (!List.of("viewing", "typing", "left").contains(state)) {
            throw ApiException.badRequest("state must be viewing, typing or left");
        }
        if (id.length() > 100) {
            throw ApiException.badRequest("no such conversation");
        }
        presence.heartbeat(id, user.getName(), state);
        return presence.snapshot(id);
    }

    record NewNote(String text) {
    }

    /**
     * An internal note: stays in the transcript for agents, never goes to the channel, and is no
     * response to the customer (it starts and stops no SLA clock and has no delivery status).
     */
    @PostMapping("/api/conversations/{id}/notes")
    ResponseEntity<Map<String, Object>> note(@PathVariable String id, @RequestBody NewNote body, Authentication user) {
        if (body == null || body.text() == null || body.text().isBlank()) {
            throw ApiException.badRequest("text is required");
        }
        if (body.text().length() > 20_000) {
            throw ApiException.badRequest("text is longer than 20000 characters");
        }
        Conversation c = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        Instant now = clock.instant();
        String messageId = UUID.randomUUID().toString();
        Message note = new Message(messageId, "note:" + messageId, Message.OUTBOUND, "note", c.channel(), null, now,
                user.getName(), body.text(), List.of(), null, null, null, null, null, false);
        store.appendMessage(id, note);
        durability.commit();
        List<String> mentions = mentions(body.text());
        Map<String, String> data = new LinkedHashMap<>();
        data.put("kind", "note");
        data.put("author", user.getName());
        if (!mentions.isEmpty()) {
            data.put("mentions", String.join(",", mentions));
        }
        // Its own event type: consumers counting "message.added" outbound as agent activity must not see notes.
        ConversationEvent event = new ConversationEvent(ConversationEvent.SCHEMA_VERSION, NOTE_ADDED + ":" + id + ":" + messageId,
                NOTE_ADDED, id, messageId, Channel.fromWire(c.channel()), now, data);
        try {
            kafka.send(Topics.CONVERSATION_EVENTS, id, ContractJson.toBytes(event)).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "the note is saved but could not be announced");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", messageId);
        out.put("direction", Message.OUTBOUND);
        out.put("kind", "note");
        out.put("channel", c.channel());
        out.put("sentAt", now);
        out.put("author", user.getName());
        out.put("text", body.text());
        out.put("mentions", mentions);
        return ResponseEntity.status(HttpStatus.CREATED).body(out);
    }

    /** Existing users mentioned as @name, in order of first mention. */
    List<String> mentions(String text) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = MENTION.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        List<String> known = new ArrayList<>();
        for (String name : names) {
            if (mongo.exists(Query.query(where("_id").is(name)), "users")) {
                known.add(name);
            }
        }
        return known;
    }

    /** The canned answer that best fits the customer's latest message, or 204 when none does. */
    @GetMapping("/api/conversations/{id}/suggestion")
    ResponseEntity<Map<String, Object>> suggestion(@PathVariable String id) {
        store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        String last = store.transcript(id)
                .flatMap(t -> t.latest(m -> Message.INBOUND.equals(m.direction()) && m.text() != null && !m.text().isBlank()))
                .map(Message::text).orElse(null);
        List<CannedSuggester.Candidate> candidates = canned.all().stream()
                .map(c -> new CannedSuggester.Candidate(c.id(), c.lang(), c.title(), c.text(),
                        c.keywords() == null ? List.of() : c.keywords()))
                .toList();
        return CannedSuggester.suggest(last, candidates)
                .map(s -> ResponseEntity.ok(Map.<String, Object>of("id", s.response().id(), "lang", s.response().lang(),
                        "title", s.response().title(), "text", s.response().text(), "score", s.score())))
                .orElseGet(() -> ResponseEntity.noContent().build());
    }

    /** Refs of this conversation's attachments whose bytes are stored here (downloadable at /api/files/{ref}). */
    @GetMapping("/api/conversations/{id}/files")
    List<String> files(@PathVariable String id) {
        List<String> refs = store.transcript(id).map(Transcript::messages).orElse(List.of()).stream()
                .flatMap(m -> m.attachments().stream()).map(Attachment::ref).filter(r -> r != null && !r.isBlank())
                .distinct().toList();
        if (refs.isEmpty()) {
            return List.of();
        }
        Query query = Query.query(where("_id").in(refs));
        query.fields().include("_id");
        return mongo.find(query, Document.class, InboxStore.FILES).stream().map(d -> d.getString("_id")).toList();
    }

    record View(String name, String query, long count) {
    }

    /** The saved views of the queue, as filters for GET /api/conversations, with their current sizes. */
    @GetMapping("/api/views")
    List<View> views(Authentication user) {
        String me = user.getName();
        java.util.Optional<Criteria> limit = visibility.limit(user);
        Instant now = clock.instant();
        return List.of(
                new View("mine", "assignee=" + me + "&status=open,pending,snoozed",
                        count(where("assignee").is(me).and("status").in("open", "pending", "snoozed"), limit)),
                new View("unassigned", "assignee=none&status=open,pending",
                        count(where("assignee").isNull().and("status").in("open", "pending"), limit)),
                new View("open", "status=open,pending", count(where("status").in("open", "pending"), limit)),
                new View("breached", "view=breached",
                        count(where("status").in("open", "pending").and("sla.nextDueAt").lte(now), limit)),
                new View("snoozed", "status=snoozed", count(where("status").is("snoozed"), limit)),
                new View("resolved", "status=resolved", count(where("status").is("resolved"), limit)));
    }

    private long count(Criteria criteria, java.util.Optional<Criteria> limit) {
        Criteria c = criteria.and("lastMessageAt").ne(null);
        return mongo.count(Query.query(limit.map(l -> new Criteria().andOperator(c, l)).orElse(c)), Conversation.class);
    }

    @GetMapping("/api/me")
    Map<String, Object> me(Authentication user) {
        List<String> roles = user.getAuthorities().stream().map(GrantedAuthority::getAuthority)
                .filter(a -> a.startsWith("ROLE_")).map(a -> a.substring(5).toLowerCase(Locale.ROOT)).toList();
        return Map.of("username", user.getName(), "roles", roles);
    }
}
