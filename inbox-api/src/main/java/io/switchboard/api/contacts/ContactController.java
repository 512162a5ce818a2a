package io.switchboard.api.contacts;

import io.switchboard.api.ApiException;
import io.switchboard.api.conversations.Tags;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Contact;
import io.switchboard.store.Conversation;
import io.switchboard.store.Identity;
import io.switchboard.store.InboxStore;
import io.switchboard.store.StoreDurability;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * A contact with every channel identity, the profile fields the desk asks for, past
 * conversations and merge suggestions; linking identities and merging duplicates.
 */
@RestController
@RequestMapping("/api/contacts")
class ContactController {

    private static final List<String> IDENTITY_TYPES = List.of("email", "telegram", "vk", "facebook", "phone");
    private static final Pattern E164 = Pattern.compile("\\+[1-9]\\d{6,14}");
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");

    private final InboxStore store;
    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final io.switchboard.api.security.Visibility visibility;
    private final KafkaTemplate<String, byte[]> kafka;

    ContactController(InboxStore store, MongoTemplate mongo, ObjectProvider<StoreDurability> durability,
                      ObjectProvider<Clock> clock, io.switchboard.api.security.Visibility visibility,
                      KafkaTemplate<String, byte[]> kafka) {
        this.visibility = visibility;
        this.kafka = kafka;
        this.store = store;
        this.mongo = mongo;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    record ConversationRef(String id, String channel, String status, String subject, Instant lastMessageAt) {
        static ConversationRef of(Conversation c) {
            return new ConversationRef(c.id(), c.channel(), c.status(), c.subject() != null ? c.subject() : c.preview(),
                    c.lastMessageAt());
        }
    }

    record ContactView(String id, String displayName, List<Identity> identities, String login, String project,
                       boolean unreachable, String mergedInto, Instant createdAt, List<ConversationRef> conversations,
                       List<Map<String, String>> mergeSuggestions, List<String> tags) {
    }

    @GetMapping("/{id}")
    ContactView get(@PathVariable String id) {
        Contact c = store.contact(id).orElseThrow(() -> ApiException.notFound("no contact " + id));
        return new ContactView(c.id(), c.displayName(), c.identities(), c.login(), c.project(), c.unreachable(), c.mergedInto(),
                c.createdAt(), store.conversationsOf(c.id()).stream()
                .filter(conv -> visibility.canSee(org.springframework.security.core.context.SecurityContextHolder.getContext()
                        .getAuthentication(), conv)) // only conversations the caller may see (ADR 0142)
                .map(ConversationRef::of).toList(),
                store.mergeSuggestions(c.id()), c.tags());
    }

    private static final List<String> PROFILE_FIELDS = List.of("displayName", "login", "project");
    private static final List<String> TAG_FIELDS = List.of("tags", "addTags", "removeTags");

    /**
     * Changes profile fields ({@code displayName}, {@code login}, {@code project}) and the contact's tags
     * ({@code tags} replaces them, {@code addTags}/{@code removeTags} edit them; normalized as conversation tags).
     * Everything is checked before anything is written. A change of tags is announced on each of the contact's
     * unresolved conversations, so the SLA tracker applies policies with {@code contactTags} conditions to them.
     */
    @PatchMapping("/{id}")
    ContactView patch(@PathVariable String id, @RequestBody Map<String, Object> changes) {
        store.contact(id).orElseThrow(() -> ApiException.notFound("no contact " + id));
        if (changes == null || changes.isEmpty()) {
            throw ApiException.badRequest("nothing to change: give displayName, login, project or tags");
        }
        Update update = new Update().set("updatedAt", clock.instant());
        boolean profile = false;
        for (Map.Entry<String, Object> e : changes.entrySet()) {
            if (TAG_FIELDS.contains(e.getKey())) {
                continue;
            }
            if (!PROFILE_FIELDS.contains(e.getKey())) {
                throw ApiException.badRequest("unknown field '" + e.getKey()
                        + "': only displayName, login, project, tags (addTags, removeTags) can change");
            }
            if (e.getValue() != null && !(e.getValue() instanceof String)) {
                throw ApiException.badRequest(e.getKey() + " must be a string or null");
            }
            if (e.getValue() != null && ((String) e.getValue()).length() > 200) {
                throw ApiException.badRequest(e.getKey() + " is longer than 200 characters");
            }
            update.set(e.getKey(), e.getValue());
            profile = true;
        }
        List<String> tags = changes.containsKey("tags") ? Tags.normalizeAll(changes.get("tags"), "tags") : null;
        List<String> addTags = changes.containsKey("addTags") ? Tags.normalizeAll(changes.get("addTags"), "addTags") : null;
        List<String> removeTags = changes.containsKey("removeTags") ? Tags.normalizeAll(changes.get("removeTags"), "removeTags") : null;
        if (tags != null) {
            Tags.apply(tags, null, null, null, "a contact"); // at most 20, before anything is written
        }
        // tags first: adding past the limit is refused by the atomic change itself, and then nothing is written
        if (tags != null || addTags != null || removeTags != null) {
            retag(id, tags, addTags, removeTags);
        }
        if (profile) {
            mongo.updateFirst(Query.query(where("_id").is(id)), update, Contact.class);
            Object login = changes.get("login");
            if (login instanceof String l && !l.isBlank()) {
                store.enrichContact(id, List.of(), Map.of("login", l), clock.instant());
            }
        }
        durability.commit();
        return get(id);
    }

    private void retag(String id, List<String> replace, List<String> add, List<String> remove) {
        Instant now = clock.instant();
        List<String> before = store.contact(id).map(Contact::tags).orElse(List.of());
        List<String> after = store.updateContactTags(id, current -> Tags.apply(current, replace, add, remove, "a contact"), now)
                .orElseThrow(() -> ApiException.notFound("no contact " + id));
        durability.commit();
        if (after.equals(before)) {
            return;
        }
        // The SLA tracker recomputes a conversation on its events only: tell it about every conversation whose
        // clocks may now fall under another policy. Resolved ones are left alone (their clocks have stopped).
        for (Conversation c : store.conversationsOf(id)) {
            if (Conversation.RESOLVED.equals(c.status()) || Conversation.MERGED.equals(c.status())) {
                continue;
            }
            ConversationEvent event = new ConversationEvent(ConversationEvent.SCHEMA_VERSION,
                    ConversationEvent.CONVERSATION_UPDATED + ":" + c.id() + ":contact-tags:" + now.toEpochMilli(),
                    ConversationEvent.CONVERSATION_UPDATED, c.id(), null, Channel.fromWire(c.channel()), now,
                    Map.of("contactTags", String.join(",", after)));
            try {
                kafka.send(Topics.CONVERSATION_EVENTS, c.id(), ContractJson.toBytes(event)).get(15, TimeUnit.SECONDS);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "the change is saved but could not be announced; try again");
            }
        }
    }

    record NewIdentity(String type, String value) {
    }

    /**
     * Links another channel identity to this contact. If it belongs to someone else already, the
     * answer is 409 with that contact's id, and the pair is suggested for a merge.
     */
    @PostMapping("/{id}/identities")
    ResponseEntity<?> link(@PathVariable String id, @RequestBody NewIdentity body) {
        store.contact(id).orElseThrow(() -> ApiException.notFound("no contact " + id));
        if (body == null || body.type() == null || !IDENTITY_TYPES.contains(body.type().toLowerCase(Locale.ROOT))) {
            throw ApiException.badRequest("type must be one of " + IDENTITY_TYPES);
        }
        String value = body.value() == null ? "" : body.value().trim();
        String type = body.type().toLowerCase(Locale.ROOT);
        if (value.isEmpty() || value.length() > 320) {
            throw ApiException.badRequest("value is required");
        }
        if (type.equals("phone") && !E164.matcher(value).matches()) {
            throw ApiException.badRequest("phone must be in E.164 form, e.g. +74993509703");
        }
        if (type.equals("email") && !EMAIL.matcher(value).matches()) {
            throw ApiException.badRequest("not an email address");
        }
        Identity identity = new Identity(type, value);
        Instant now = clock.instant();
        String owner = store.claimIdentity(id, identity, now);
        if (!owner.equals(id)) {
            store.suggestMerge(owner, id, "both use " + type + " " + identity.value(), now);
            durability.commit();
            return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error",
                    "this identity belongs to another contact; merge them to link it", "contactId", owner));
        }
        store.enrichContact(id, List.of(identity), Map.of(), now);
        durability.commit();
        return ResponseEntity.status(HttpStatus.CREATED).body(get(id));
    }

    record MergeRequest(String from) {
    }

    /** Merges the contact {@code from} into this one; recorded with who did it. */
    @PostMapping("/{id}/merge")
    ContactView merge(@PathVariable String id, @RequestBody MergeRequest body, Authentication user) {
        if (body == null || body.from() == null || body.from().isBlank()) {
            throw ApiException.badRequest("from (the contact to merge into this one) is required");
        }
        store.contact(id).orElseThrow(() -> ApiException.notFound("no contact " + id));
        store.contact(body.from()).orElseThrow(() -> ApiException.notFound("no contact " + body.from()));
        try {
            store.mergeContacts(id, body.from(), user.getName(), clock.instant());
        } catch (IllegalArgumentException e) {
            throw new ApiException(HttpStatus.CONFLICT, e.getMessage());
        }
        durability.commit();
        return get(id);
    }
}
