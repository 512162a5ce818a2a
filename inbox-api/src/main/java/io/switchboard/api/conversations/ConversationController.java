package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;
import io.switchboard.api.conversations.ConversationViews.Detail;
import io.switchboard.api.conversations.ConversationViews.Item;
import io.switchboard.api.conversations.ConversationViews.MessageView;
import io.switchboard.api.conversations.ConversationViews.Page;
import io.switchboard.api.sla.SlaTargets;
import io.switchboard.api.sla.SlaView;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.StoreFeatures;
import io.switchboard.store.Message;
import io.switchboard.store.Transcript;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.TextCriteria;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/** The unified queue and a conversation's timeline, across every channel. */
@RestController
@RequestMapping("/api/conversations")
class ConversationController {

    private static final List<String> STATUSES = List.of(Conversation.OPEN, Conversation.PENDING, Conversation.SNOOZED,
            Conversation.RESOLVED);
    private static final List<String> FILTER_STATUSES = List.of(Conversation.OPEN, Conversation.PENDING, Conversation.SNOOZED,
            Conversation.RESOLVED, Conversation.MERGED);
    private static final List<String> PRIORITIES = List.of("urgent", "high", "normal", "low");

    private final MongoTemplate mongo;
    private final InboxStore store;
    private final Replies replies;
    private final SlaTargets targets;
    private final Clock clock;
    private final ReplyRoutes routes;
    private final StoreFeatures features;
    private final QueueFilters queueFilters;
    private final Merges merges;

    ConversationController(MongoTemplate mongo, InboxStore store, Replies replies, SlaTargets targets,
                           ObjectProvider<Clock> clock, ReplyRoutes routes, ObjectProvider<StoreFeatures> features,
                           QueueFilters queueFilters, Merges merges) {
        this.routes = routes;
        this.mongo = mongo;
        this.store = store;
        this.replies = replies;
        this.targets = targets;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.features = features.getIfAvailable(() -> StoreFeatures.EMBEDDED);
        this.queueFilters = queueFilters;
        this.merges = merges;
    }

    /**
     * Newest activity first; the cursor is the last item's (lastMessageAt, id), so pages stay
     * stable while new conversations arrive at the top.
     */
    @GetMapping
    Page list(@RequestParam(required = false) String status, @RequestParam(required = false) String channel,
              @RequestParam(required = false) String assignee, @RequestParam(required = false) String q,
              @RequestParam(required = false) Integer limit, @RequestParam(required = false) String cursor,
              @RequestParam(required = false) String sort, @RequestParam(required = false) List<String> tag,
              @RequestParam(required = false) String team, @RequestParam(required = false) String priority,
              @RequestParam(required = false) String account, @RequestParam(required = false) String sla,
              @RequestParam(required = false) Integer atRiskMinutes, @RequestParam(required = false) String view,
              Authentication user) {
        boolean byDue = "due".equals(sort);
        if (sort != null && !sort.isBlank() && !byDue && !"recent".equals(sort)) {
            throw ApiException.badRequest("sort must be recent (newest activity first) or due (earliest SLA deadline first)");
        }
        int size = limit == null ? 50 : limit;
        if (size < 1 || size > 200) {
            throw ApiException.badRequest("limit must be between 1 and 200");
        }
        List<Criteria> filters = new ArrayList<>();
        filters.add(where("lastMessageAt").ne(null));
        if (status != null && !status.isBlank()) {
            List<String> wanted = List.of(status.split(","));
            if (!FILTER_STATUSES.containsAll(wanted)) {
                throw ApiException.badRequest("status must be one or more of " + FILTER_STATUSES);
            }
            filters.add(where("status").in(wanted));
        } else {
            filters.add(where("status").ne(Conversation.MERGED)); // merged ones live on in their successor
        }
        if (channel != null && !channel.isBlank()) {
            filters.add(where("channel").in(List.of(channel.toLowerCase().split(","))));
        }
        if (assignee != null && !assignee.isBlank()) {
            filters.add(assignee.equals("none") ? where("assignee").isNull() : where("assignee").is(assignee));
        }
        TextCriteria text = null;
        if (q != null && !q.isBlank() && features.textSearch()) {
            // real MongoDB: the phrase as whole words, case-insensitive, through the text index (StoreIndexes)
            text = TextCriteria.forDefaultLanguage().matchingPhrase(q.trim());
        } else if (q != null && !q.isBlank()) {
            Pattern p = Pattern.compile(Pattern.quote(q.trim()), Pattern.CASE_INSENSITIVE);
            filters.add(new Criteria().orOperator(where("subject").regex(p), where("preview").regex(p),
                    where("contactName").regex(p), where("login").regex(p), where("project").regex(p)));
        }
        filters.addAll(queueFilters.criteria(new QueueFilters.Params(tag, team, priority, account, sla, atRiskMinutes, view),
                user, clock.instant()));
        if (byDue) {
            // the queue by SLA urgency: only conversations with a running clock, earliest deadline first
            filters.add(where(SlaView.NEXT_DUE_AT).ne(null));
        }
        if (cursor != null && !cursor.isBlank()) {
            String[] parts = decodeCursor(cursor);
            Instant at = Instant.ofEpochMilli(Long.parseLong(parts[0]));
            filters.add(byDue
                    ? new Criteria().orOperator(where(SlaView.NEXT_DUE_AT).gt(at), where(SlaView.NEXT_DUE_AT).is(at).and("_id").gt(parts[1]))
                    : new Criteria().orOperator(where("lastMessageAt").lt(at),
                    where("lastMessageAt").is(at).and("_id").lt(parts[1])));
        }
        Query query = Query.query(new Criteria().andOperator(filters.toArray(Criteria[]::new)))
                .with(byDue ? Sort.by(Sort.Order.asc(SlaView.NEXT_DUE_AT), Sort.Order.asc("_id"))
                        : Sort.by(Sort.Order.desc("lastMessageAt"), Sort.Order.desc("_id"))).limit(size + 1);
        if (text != null) {
            query.addCriteria(text);
        }
        List<Conversation> found = new ArrayList<>(mongo.find(query, Conversation.class));
        // Sorting again in memory keeps the order right on stores that ignore the sort index.
        found.sort(byDue ? Comparator.comparing(SlaView::nextDueAt).thenComparing(Conversation::id)
                : Comparator.comparing(Conversation::lastMessageAt).thenComparing(Conversation::id).reversed());
        String next = null;
        if (found.size() > size) {
            found = found.subList(0, size);
            Conversation last = found.get(size - 1);
            next = encodeCursor(byDue ? SlaView.nextDueAt(last) : last.lastMessageAt(), last.id());
        }
        Instant now = clock.instant();
        return new Page(found.stream().map(c -> Item.of(c, SlaView.of(c, targets, now))).toList(), next);
    }

    @GetMapping("/{id}")
    Detail get(@PathVariable String id) {
        Conversation c = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        List<Message> messages = new ArrayList<>(store.transcript(id).map(Transcript::messages).orElse(List.of()));
        messages.sort(Comparator.comparing(Message::sentAt, Comparator.nullsLast(Comparator.naturalOrder())));
        return Detail.of(c, SlaView.of(c, targets, clock.instant()), messages);
    }

    /**
     * @param attachments refs of files uploaded with POST /api/files
     * @param via         another identity of the contact to reply through: {"channel":..,"identity":..} or "type:value"
     * @param replyTo     id of the customer's message this reply answers: Telegram quotes it (reply_parameters),
     *                    email sets In-Reply-To to it
     */
    record NewReply(String text, List<String> attachments, Object via, String replyTo) {
    }

    /** At most this many files on one reply. */
    static final int MAX_ATTACHMENTS = 10;

    @PostMapping("/{id}/messages")
    ResponseEntity<MessageView> reply(@PathVariable String id, @RequestBody NewReply body, Authentication user) {
        List<String> refs = body == null || body.attachments() == null ? List.of()
                : body.attachments().stream().distinct().toList();
        boolean noText = body == null || body.text() == null || body.text().isBlank();
        if (noText && refs.isEmpty()) {
            throw ApiException.badRequest(body != null && body.attachments() != null
                    ? "text or attachments is required" : "text is required");
        }
        if (!noText && body.text().length() > 20_000) {
            throw ApiException.badRequest("text is longer than 20000 characters");
        }
        if (refs.size() > MAX_ATTACHMENTS) {
            throw ApiException.badRequest("at most " + MAX_ATTACHMENTS + " attachments per reply");
        }
        List<InboxStore.UploadInfo> files = new ArrayList<>();
        for (String ref : refs) {
            if (ref == null || ref.isBlank()) {
                throw ApiException.badRequest("attachments must be refs returned by POST /api/files");
            }
            files.add(store.uploadInfo(ref).orElseThrow(() -> ApiException.badRequest("no uploaded file " + ref)));
        }
        Conversation c = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        ReplyRoutes.Route route = body.via() == null ? null : routes.resolve(c, body.via());
        String replyTo = null;
        if (body.replyTo() != null && !body.replyTo().isBlank()) {
            Message answered = store.message(c.id(), body.replyTo())
                    .orElseThrow(() -> ApiException.badRequest("replyTo: no message " + body.replyTo() + " in this conversation"));
            if (!Message.INBOUND.equals(answered.direction()) || answered.externalId() == null) {
                throw ApiException.badRequest("replyTo must name a message the customer sent");
            }
            if (route != null && !route.channel().equals(answered.channel())) {
                throw ApiException.badRequest("replyTo names a " + answered.channel() + " message; this reply goes by "
                        + route.channel());
            }
            replyTo = answered.externalId();
        }
        Message message = replies.send(c, noText ? null : body.text(), user.getName(), files, route, replyTo);
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(MessageView.of(message));
    }

    @PatchMapping("/{id}")
    Detail patch(@PathVariable String id, @RequestBody Map<String, Object> changes) {
        if (changes == null || changes.isEmpty()) {
            throw ApiException.badRequest("nothing to change: give status, assignee, priority or tags");
        }
        for (String key : changes.keySet()) {
            if (!List.of("status", "assignee", "priority", "tags", "addTags", "removeTags").contains(key)) {
                throw ApiException.badRequest("unknown field '" + key
                        + "': only status, assignee, priority, tags (addTags, removeTags) can change");
            }
        }
        List<String> tags = changes.containsKey("tags") ? Tags.normalizeAll(changes.get("tags"), "tags") : null;
        List<String> addTags = changes.containsKey("addTags") ? Tags.normalizeAll(changes.get("addTags"), "addTags") : null;
        List<String> removeTags = changes.containsKey("removeTags") ? Tags.normalizeAll(changes.get("removeTags"), "removeTags") : null;
        if (tags != null) {
            Tags.apply(tags, null, null, null); // at most 20, before anything is written
        }
        Object status = changes.get("status");
        if (changes.containsKey("status") && !(status instanceof String s && STATUSES.contains(s))) {
            throw ApiException.badRequest("status must be one of " + STATUSES);
        }
        Object priority = changes.get("priority");
        if (changes.containsKey("priority") && !(priority instanceof String p && PRIORITIES.contains(p))) {
            throw ApiException.badRequest("priority must be one of " + PRIORITIES);
        }
        Object assignee = changes.get("assignee");
        if (changes.containsKey("assignee") && assignee != null && !(assignee instanceof String)) {
            throw ApiException.badRequest("assignee must be a user name or null");
        }
        Conversation current = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        if (Conversation.MERGED.equals(current.status())) {
            throw new ApiException(HttpStatus.CONFLICT, "conversation " + id + " was merged into " + current.mergedInto()
                    + "; change that one");
        }
        if (tags != null || addTags != null || removeTags != null) {
            merges.retag(current, tags, addTags, removeTags);
        }
        if (changes.containsKey("status") || changes.containsKey("priority") || changes.containsKey("assignee")) {
            replies.update(id, (String) status, (String) priority, changes.containsKey("assignee"), (String) assignee);
        }
        return get(id);
    }

    static String encodeCursor(Instant at, String id) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((at.toEpochMilli() + "|" + id).getBytes(StandardCharsets.UTF_8));
    }

    static String[] decodeCursor(String cursor) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 2);
            Long.parseLong(parts[0]);
            if (parts.length != 2) {
                throw new IllegalArgumentException();
            }
            return parts;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("cursor is not one this API gave out");
        }
    }
}
