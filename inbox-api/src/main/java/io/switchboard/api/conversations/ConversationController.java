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
    private final QueueSnapshots snapshots;

    ConversationController(MongoTemplate mongo, InboxStore store, Replies replies, SlaTargets targets,
                           ObjectProvider<Clock> clock, ReplyRoutes routes, ObjectProvider<StoreFeatures> features,
                           QueueFilters queueFilters, Merges merges, QueueSnapshots snapshots) {
        this.snapshots = snapshots;
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
     * The unified queue, soonest SLA deadline first (then conversations without a running clock, newest
     * activity first), or {@code sort=recent}: newest activity first. Paging (docs/ui.md, "Queue order and
     * paging"): the first page remembers the order of the next {@value QueueSnapshots#MAX_IDS} conversations,
     * and later pages follow it, showing each conversation once with its current data, whatever moved
     * meanwhile; past that, or when the snapshot is gone, the cursor's keyset position takes over.
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
        QueueOrder order = QueueOrder.of(sort);
        if (order == null) {
            throw ApiException.badRequest("sort must be due (default: earliest running SLA deadline first, then the rest by"
                    + " newest activity) or recent (newest activity first)");
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
            // the store keeps every searchable word of a conversation in one bounded field (InboxStore.SEARCH)
            Pattern p = Pattern.compile(Pattern.quote(q.trim()), Pattern.CASE_INSENSITIVE);
            filters.add(new Criteria().orOperator(where(InboxStore.SEARCH).regex(p), where("subject").regex(p),
                    where("preview").regex(p), where("contactName").regex(p), where("login").regex(p), where("project").regex(p)));
        }
        filters.addAll(queueFilters.criteria(new QueueFilters.Params(tag, team, priority, account, sla, atRiskMinutes, view),
                user, clock.instant()));
        String fingerprint = String.join("\u0001", order.name(), n(status), n(channel), n(assignee), n(q),
                tag == null ? "" : String.join(",", tag), n(team), n(priority), n(account), n(sla), String.valueOf(atRiskMinutes), n(view));
        Listing listing = new Listing(order, filters, text);

        List<Conversation> found;
        String next = null;
        Cursor at = cursor == null || cursor.isBlank() ? null : Cursor.decode(cursor, order);
        QueueSnapshots.Snapshot snapshot = at == null || at.token() == null ? null
                : snapshots.get(at.token(), user.getName(), fingerprint).orElse(null);
        if (at == null) {
            // first page: the order of what follows is remembered as it is now
            List<QueueOrder.Position> ahead = listing.positions(null, QueueSnapshots.MAX_IDS + 1);
            boolean more = ahead.size() > QueueSnapshots.MAX_IDS;
            ahead = ahead.subList(0, Math.min(ahead.size(), QueueSnapshots.MAX_IDS));
            List<QueueOrder.Position> shown = ahead.subList(0, Math.min(size, ahead.size()));
            found = listing.load(ids(shown));
            if (ahead.size() > size || more) {
                String token = snapshots.put(user.getName(), fingerprint, ahead.subList(shown.size(), ahead.size()), more);
                next = new Cursor(order, shown.get(shown.size() - 1), token, 0).encode();
            }
        } else if (snapshot != null) {
            // later pages follow the snapshot; conversations that no longer match the filters are left out
            List<QueueOrder.Position> rest = snapshot.order();
            found = new ArrayList<>();
            int offset = at.offset();
            while (found.size() < size && offset < rest.size()) {
                List<QueueOrder.Position> chunk = rest.subList(offset, Math.min(rest.size(), offset + size - found.size()));
                offset += chunk.size();
                found.addAll(listing.load(ids(chunk), true));
            }
            QueueOrder.Position last = offset == 0 ? at.position() : rest.get(offset - 1);
            if (offset < rest.size()) {
                next = new Cursor(order, last, at.token(), offset).encode();
            } else if (snapshot.more()) {
                // beyond the snapshot: by keyset from its last position
                List<QueueOrder.Position> beyond = listing.positions(last, size - found.size() + 1);
                List<QueueOrder.Position> shown = beyond.subList(0, Math.min(beyond.size(), size - found.size()));
                found.addAll(listing.load(ids(shown)));
                if (beyond.size() > shown.size() || (shown.isEmpty() && !beyond.isEmpty())) {
                    next = new Cursor(order, shown.isEmpty() ? last : shown.get(shown.size() - 1), null, 0).encode();
                }
            }
        } else {
            // no snapshot (expired, evicted, another instance): by keyset, stable under inserts
            List<QueueOrder.Position> ahead = listing.positions(at.position(), size + 1);
            List<QueueOrder.Position> shown = ahead.subList(0, Math.min(size, ahead.size()));
            found = listing.load(ids(shown));
            if (ahead.size() > size) {
                next = new Cursor(order, shown.get(shown.size() - 1), null, 0).encode();
            }
        }
        Instant now = clock.instant();
        return new Page(found.stream().map(c -> Item.of(c, SlaView.of(c, targets, now))).toList(), next);
    }

    private static String n(String s) {
        return s == null ? "" : s;
    }

    private static List<String> ids(List<QueueOrder.Position> positions) {
        return positions.stream().map(QueueOrder.Position::id).toList();
    }

    /** One listing's order and conditions. */
    private final class Listing {
        private final QueueOrder order;
        private final List<Criteria> filters;
        private final TextCriteria text;

        Listing(QueueOrder order, List<Criteria> filters, TextCriteria text) {
            this.order = order;
            this.filters = filters;
            this.text = text;
        }

        /** Up to {@code max} positions after {@code after} (from the start when null), reading only the sort keys. */
        List<QueueOrder.Position> positions(QueueOrder.Position after, int max) {
            if (order == QueueOrder.RECENT || (after != null && after.phase() == 1)) {
                return phase(1, after, max);
            }
            List<QueueOrder.Position> first = phase(0, after, max);
            if (first.size() >= max) {
                return first;
            }
            // Each phase is its own query, and a clock that starts or stops between them moves a conversation
            // from one phase to the other under us: it would be missing from the page, or on it twice. Phase 0
            // is read again after phase 1, and QueueOrder.merge places each conversation once. Phase 1 is read
            // up to max, not max minus phase 0: a conversation it shares with the second read is dropped there,
            // and a short page would read as the end of the queue.
            List<QueueOrder.Position> rest = phase(1, null, max);
            List<QueueOrder.Position> again = phase(0, after, max);
            return QueueOrder.merge(first, rest, again, max);
        }

        /** One phase's positions, after {@code after} when it lies in that phase. */
        private List<QueueOrder.Position> phase(int phase, QueueOrder.Position after, int max) {
            List<Criteria> all = new ArrayList<>(filters);
            if (order == QueueOrder.DUE) {
                all.add(order.phase(phase));
            }
            if (after != null && phase == after.phase()) {
                all.add(QueueOrder.after(after));
            }
            Query query = Query.query(new Criteria().andOperator(all.toArray(Criteria[]::new)))
                    .with(order.sort(phase)).limit(max);
            QueueOrder.FIELDS.forEach(f -> query.fields().include(f));
            if (text != null) {
                query.addCriteria(text);
            }
            List<QueueOrder.Position> found = new ArrayList<>();
            for (org.bson.Document d : mongo.find(query, org.bson.Document.class, Conversation.COLLECTION)) {
                found.add(QueueOrder.position(phase, d));
            }
            found.sort(QueueOrder.comparator(phase));
            return found;
        }

        /** The conversations of ids {@link #positions} just found, in the order given. */
        List<Conversation> load(List<String> ids) {
            return load(ids, false);
        }

        /**
         * The conversations of these ids, in the order given; with {@code recheck} only those that still match
         * the listing (ids remembered from an earlier page). Without it the query names only {@code _id}, which
         * the embedded store answers from its index rather than by a scan.
         */
        List<Conversation> load(List<String> ids, boolean recheck) {
            if (ids.isEmpty()) {
                return List.of();
            }
            Query query;
            if (recheck) {
                List<Criteria> all = new ArrayList<>(filters);
                all.add(where("_id").in(ids));
                query = Query.query(new Criteria().andOperator(all.toArray(Criteria[]::new)));
                if (text != null) {
                    query.addCriteria(text);
                }
            } else {
                query = Query.query(where("_id").in(ids));
            }
            Map<String, Conversation> byId = new java.util.HashMap<>();
            mongo.find(query, Conversation.class).forEach(c -> byId.put(c.id(), c));
            return ids.stream().map(byId::get).filter(java.util.Objects::nonNull).toList();
        }
    }

    /**
     * Where a client stands in a listing: the order, the last position it was given, and the snapshot
     * ({@link QueueSnapshots}) with how far into it. Opaque to clients.
     */
    record Cursor(QueueOrder order, QueueOrder.Position position, String token, int offset) {

        String encode() {
            String raw = "2|" + order.name().charAt(0) + "|" + position.phase() + "|" + position.at().toEpochMilli() + "|"
                    + (token == null ? "" : token) + "|" + offset + "|" + position.id();
            return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String cursor, QueueOrder expected) {
            try {
                String[] p = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 7);
                if (p.length != 7 || !p[0].equals("2")) {
                    throw new IllegalArgumentException();
                }
                QueueOrder order = p[1].equals("D") ? QueueOrder.DUE : p[1].equals("R") ? QueueOrder.RECENT : null;
                int phase = Integer.parseInt(p[2]);
                if (order != expected || !order.phases().contains(phase)) {
                    throw new IllegalArgumentException();
                }
                return new Cursor(order, new QueueOrder.Position(phase, Instant.ofEpochMilli(Long.parseLong(p[3])), p[6]),
                        p[4].isEmpty() ? null : p[4], Integer.parseInt(p[5]));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("cursor is not one this API gave out for this sort order");
            }
        }
    }

    @GetMapping("/{id}")
    Detail get(@PathVariable String id) {
        Conversation c = store.find(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        List<Message> messages = new ArrayList<>(store.transcript(id).map(Transcript::messages).orElse(List.of()));
        messages.sort(Transcript.IN_TIME_ORDER);
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
}
