package io.switchboard.store;

import com.mongodb.client.result.UpdateResult;
import org.bson.Document;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.mongodb.core.FindAndModifyOptions;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Every write to the inbox model. Each method is one or a few single-document atomic updates,
 * each idempotent on its own, so a write sequence interrupted at any point and replayed from
 * the start (Kafka redelivery) ends in the same state without duplicates (ADR 0003).
 */
@Component
public class InboxStore {

    /** Maps a thread key (chat, email Message-ID, caller number) to its current conversation. */
    public static final String THREAD_KEYS = "threadKeys";
    /** Maps a channel message key to the conversation holding it (dedup, echo and receipt matching). */
    public static final String MESSAGE_KEYS = "messageKeys";
    /** Maps an identity key to its contact. */
    public static final String IDENTITIES = "identities";
    /** Contact merges, one document per merged contact: who was merged into whom, by whom, when. */
    public static final String CONTACT_MERGES = "contactMerges";
    /** Suggested merges, one document per pair of contacts, with the reason. */
    public static final String MERGE_SUGGESTIONS = "mergeSuggestions";
    /** Maps an account login (a profile field the support desk asks for) to the contact that gave it first. */
    public static final String LOGINS = "contactLogins";
    /** Attachment bytes that arrived inline with a message, by attachment ref. */
    public static final String FILES = "files";

    /**
     * Field of a conversation holding the text of its customer messages for the queue's keyword search
     * (the preview holds only the newest 140 characters), at most {@link #SEARCH_MAX} characters: see
     * {@link #searchText}. Subject, contact name, login and project are searched in their own fields.
     */
    public static final String SEARCH = "search";
    static final int SEARCH_MAX = 8000;
    /** The first characters of {@link #SEARCH} stay when it overflows: first messages usually state the problem. */
    static final int SEARCH_HEAD = 2000;

    private final MongoTemplate template;

    /**
     * The template for every write and every query other than a point read: in a batch, the
     * documents it created but still holds back ({@link BatchCache#created}) are written first, so
     * that such a call finds them in the store (an update of a new contact, a query by contact id).
     * Point reads ({@link #byId}) and the flush itself use {@link #template}.
     */
    private MongoTemplate mongo() {
        BatchCache cache = batch.get();
        if (cache != null && !cache.created.isEmpty()) {
            flushCreated(cache);
        }
        return template;
    }

    /**
     * Version of a conversation, transcript or contact document. Conditional writes read the document, decide
     * in Java, and write with the query {@code {_id, _v}} plus {@code $inc _v}: atomic per document
     * like a conditional update, and, through the unique index on (_id, _v), an exact index match on
     * the embedded store, which uses an index only when the query names exactly its keys (a query
     * with {@code _id} and any other condition scans the whole collection there).
     */
    public static final String VERSION = "_v";

    /**
     * Messages on one transcript page, and its estimated size: a page at either bound takes no more
     * appends (ADR 0151). The count keeps an append's cost flat as a conversation grows (the store
     * rewrites the page it appends to); the size keeps every page far below MongoDB's 16 MB document limit.
     */
    static final int PAGE_MESSAGES = 32;
    static final long PAGE_BYTES = 1L << 20;

    /** On a transcript's first page: the highest page number opened, a hint for appends (never lowered). */
    static final String PAGES = "pages";
    /**
     * The same hint on the conversation, which the router's batch reads anyway: with it, appends to a long
     * conversation read its last page only, not the first page as well. The first page's hint stands in
     * when this one is missing.
     */
    static final String TRANSCRIPT_PAGES = "transcriptPages";
    /** On a full transcript page: it takes no more appends, and page n + 1 follows it. */
    static final String SEALED = "sealed";

    private final int pageMessages;
    private final long pageBytes;

    @org.springframework.beans.factory.annotation.Autowired
    public InboxStore(MongoTemplate mongo) {
        this(mongo, PAGE_MESSAGES, PAGE_BYTES);
    }

    /** With other page bounds, for tests that fill pages with a few messages. */
    InboxStore(MongoTemplate mongo, int pageMessages, long pageBytes) {
        this.template = mongo;
        this.pageMessages = pageMessages;
        this.pageBytes = pageBytes;
        // contacts too: their tags change by versioned writes (updateContactTags)
        for (String collection : List.of(Conversation.COLLECTION, Transcript.COLLECTION, Contact.COLLECTION)) {
            template.indexOps(collection).createIndex(new org.springframework.data.mongodb.core.index.Index()
                    .on("_id", org.springframework.data.domain.Sort.Direction.ASC)
                    .on(VERSION, org.springframework.data.domain.Sort.Direction.ASC).unique().named("_id_v"));
        }
    }

    // ------------------------------------------------------------------ batch unit of work

    /**
     * Point reads of one router batch, by collection and {@code _id}: an empty Optional records a
     * document known to be absent. Writes through this store keep it current (inserts remember the
     * document, updates forget it), so within the batch it reads what the store holds, except for
     * changes made meanwhile by other processes (the API). Those matter only to conditional writes,
     * which check the version ({@link #versioned}) and read again on a mismatch.
     */
    private static final class BatchCache {
        final Map<String, Map<Object, Optional<Document>>> byCollection = new java.util.HashMap<>();
        /** Writes held back until {@link Batch#flush}, by collection and id, in the order they were first made. */
        final Map<String, Map<Object, Pending>> pending = new java.util.HashMap<>();
        /** Message keys claimed in this batch, inserted by {@link Batch#flush}. */
        final List<Document> pendingKeys = new java.util.ArrayList<>();
        /**
         * Keys this batch claimed first: their messages cannot be on any transcript page yet, so appending
         * them checks only the last page for a duplicate (a key claimed again by a redelivery checks all).
         */
        final java.util.Set<String> claimedHere = new java.util.HashSet<>();
        /**
         * Keys this batch claimed that another writer had claimed first (found at the flush): that writer
         * may have stored the message on a page this batch did not check, so their appends are made one
         * by one, checking every page.
         */
        final java.util.Set<Object> contested = new java.util.HashSet<>();
        /** The transcript page with held-back appends, by conversation (at most one: its last page). */
        final Map<String, String> transcriptPage = new java.util.HashMap<>();
        /**
         * Documents this batch created (a new sender's identity and contact, a new thread's key and
         * conversation), by collection, inserted first at the flush in {@link #CREATION_ORDER}.
         */
        final Map<String, List<Document>> created = new java.util.HashMap<>();

        Map<Object, Optional<Document>> of(String collection) {
            return byCollection.computeIfAbsent(collection, c -> new java.util.HashMap<>());
        }

        Map<Object, Pending> pendingOf(String collection) {
            return pending.computeIfAbsent(collection, c -> new java.util.LinkedHashMap<>());
        }
    }

    /**
     * A document's writes held back in a batch: the document as read ({@code original}, null for a
     * transcript not yet created), the same with every held-back change applied ({@code working},
     * what the batch's reads see), and what produced the changes, to be made again one by one should
     * the single write at the flush find the document changed meanwhile.
     */
    private static final class Pending {
        final Document original;
        final Document working;
        final long version;
        /** Transcript pages: the conversation, whose appends are made again one by one if the page changed. */
        final String conversation;
        /** Conversations: the decisions of {@link #versioned}, in order. */
        final List<java.util.function.Function<Document, Update>> decisions = new java.util.ArrayList<>();
        /** Transcripts: the messages appended, in order, as stored. */
        final List<Document> appendedDocuments = new java.util.ArrayList<>();

        Pending(Document original, Document working, long version) {
            this(original, working, version, null);
        }

        Pending(Document original, Document working, long version, String conversation) {
            this.original = original;
            this.working = working;
            this.version = version;
            this.conversation = conversation;
        }
    }

    /** Marks the documents a flush wrote, to tell which of its conditional writes applied. */
    static final String WRITTEN_BY = "_w";

    private final ThreadLocal<BatchCache> batch = new ThreadLocal<>();

    /** A unit of work on this thread; closing it drops what it read and any write not flushed. */
    public interface Batch extends AutoCloseable {
        /**
         * Writes what the batch held back: message keys, transcript appends and the conversations'
         * customer-message updates, one bulk write per collection in that order (a crash in between
         * leaves what a redelivery completes, as with single writes). Call before making the batch durable.
         */
        void flush();

        @Override
        void close();
    }

    /**
     * Starts a unit of work on this thread: until it is closed, point reads by {@code _id} are served
     * from what {@link #prefetch} loaded or this thread read before (see {@link BatchCache}), and the
     * writes of the common path of a customer message (claim its key, append it, record it on the
     * conversation) are held back and made in one bulk write per collection at {@link Batch#flush}.
     * The router opens one per Kafka batch, which turns several round trips per message into a few
     * per batch.
     */
    public Batch openBatch() {
        BatchCache cache = new BatchCache();
        batch.set(cache);
        return new Batch() {
            @Override
            public void flush() {
                flushAll(cache);
            }

            @Override
            public void close() {
                batch.remove();
            }
        };
    }

    /**
     * Another writer created a document this batch created too (the same new sender or thread, seen
     * by two router threads at once) between the batch's read and its flush. Nothing the batch decided
     * from its own copy can be written: the caller runs the batch again, which reads the winner's
     * document. What the flush had written is what a redelivery after a crash would find, and completes.
     */
    public static final class BatchConflictException extends RuntimeException {
        BatchConflictException(String collection) {
            super("a document of " + collection + " created by this batch was created meanwhile by another writer");
        }
    }

    /**
     * The order creations are written in: each document after those it refers to, so a crash in
     * between leaves what the single-write path leaves (an identity whose contact is missing, a thread
     * key whose conversation is missing), which the next attempt completes. Conversations go before
     * the message keys, transcripts and updates of {@link #flushAll}: a claimed key of a conversation
     * that does not exist would hide the message from a redelivery.
     */
    private static final List<String> CREATION_ORDER = List.of(IDENTITIES, Contact.COLLECTION, THREAD_KEYS, Conversation.COLLECTION);

    /** Holds back the insert of a document known to be absent; the batch reads it as stored from now on. */
    private boolean holdBackCreation(String collection, Document created) {
        BatchCache cache = batch.get();
        if (cache == null) {
            return false;
        }
        cache.created.computeIfAbsent(collection, c -> new java.util.ArrayList<>()).add(created);
        remember(collection, created);
        return true;
    }

    private void flushCreated(BatchCache cache) {
        for (String collection : CREATION_ORDER) {
            List<Document> documents = cache.created.remove(collection);
            if (documents == null || documents.isEmpty()) {
                continue;
            }
            try {
                template.bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, collection)
                        .insert(documents).execute();
            } catch (org.springframework.data.mongodb.BulkOperationException e) {
                if (e.getErrors().stream().anyMatch(error -> error.getCode() != 11000)) {
                    throw e;
                }
                // the batch's view is wrong from here on: drop what it holds, the caller runs it again
                cache.created.clear();
                cache.pending.clear();
                cache.pendingKeys.clear();
                cache.claimedHere.clear();
                cache.contested.clear();
                cache.transcriptPage.clear();
                cache.byCollection.clear();
                throw new BatchConflictException(collection);
            }
            if (Conversation.COLLECTION.equals(collection)) {
                followMerges(documents);
            }
        }
    }

    /**
     * New conversations were decided on a contact read earlier in the batch; an agent may have merged that
     * contact since, and the merge moved only the conversations that existed then. The merge is claimed
     * (in {@code contactMerges}) before it moves anything, so a claim not seen here moves these
     * conversations itself; one seen here is followed now, as the merge would have.
     */
    private void followMerges(List<Document> conversations) {
        Map<String, List<Object>> byContact = new java.util.HashMap<>();
        for (Document c : conversations) {
            String contactId = c.getString("contactId");
            if (contactId != null) {
                byContact.computeIfAbsent(contactId, k -> new java.util.ArrayList<>()).add(c.get("_id"));
            }
        }
        if (byContact.isEmpty()) {
            return;
        }
        for (Document merge : template.find(Query.query(where("_id").in(byContact.keySet())), Document.class, CONTACT_MERGES)) {
            String mergedId = merge.getString("_id");
            // read from the store, not the batch's copies: those may predate the merge
            java.util.function.Function<String, Document> stored = id -> template.findById(id, Document.class, Contact.COLLECTION);
            String survivorId = resolveMerged(merge.getString("into"), stored); // merged on in turn, maybe
            Document survivor = stored.apply(survivorId);
            Document merged = stored.apply(mergedId);
            String name = mergedName(survivor == null ? null : survivor.getString("displayName"),
                    merged == null ? null : merged.getString("displayName"));
            // by _id alone: the embedded store scans the collection for a query with _id and another field
            template.updateMulti(Query.query(where("_id").in(byContact.get(mergedId))),
                    new Update().set("contactId", survivorId).set("contactName", name), Conversation.COLLECTION);
            byContact.get(mergedId).forEach(id -> forget(Conversation.COLLECTION, id));
        }
    }

    private void flushAll(BatchCache cache) {
        flushCreated(cache);
        flushKeys(cache);
        cache.transcriptPage.clear();
        flushPending(Transcript.COLLECTION, take(cache.pendingOf(Transcript.COLLECTION), null));
        flushPending(Conversation.COLLECTION, take(cache.pendingOf(Conversation.COLLECTION), null));
    }

    /** Removes and returns the held-back writes of one document ({@code id}), or of all ({@code null}). */
    private static List<Map.Entry<Object, Pending>> take(Map<Object, Pending> held, Object id) {
        List<Map.Entry<Object, Pending>> taken = new java.util.ArrayList<>();
        if (id == null) {
            taken.addAll(held.entrySet());
            held.clear();
        } else if (held.containsKey(id)) {
            taken.add(Map.entry(id, held.remove(id)));
        }
        return taken;
    }

    private void flushKeys(BatchCache cache) {
        if (cache.pendingKeys.isEmpty()) {
            return;
        }
        List<Document> keys = List.copyOf(cache.pendingKeys);
        cache.pendingKeys.clear();
        try {
            mongo().bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, MESSAGE_KEYS)
                    .insert(keys).execute();
        } catch (org.springframework.data.mongodb.BulkOperationException e) {
            // a key claimed meanwhile by another writer: the first claim wins, as in claimMessageKey
            if (e.getErrors().stream().anyMatch(error -> error.getCode() != 11000)) {
                throw e;
            }
            e.getErrors().forEach(error -> {
                Object key = keys.get(error.getIndex()).get("_id");
                forget(MESSAGE_KEYS, key);
                cache.contested.add(key);
            });
        }
    }

    /** One bulk write for held-back changes; those that found their document changed are made again, one by one. */
    private void flushPending(String collection, List<Map.Entry<Object, Pending>> entries) {
        if (entries.isEmpty()) {
            return;
        }
        String token = UUID.randomUUID().toString();
        org.springframework.data.mongodb.core.BulkOperations bulk =
                mongo().bulkOps(org.springframework.data.mongodb.core.BulkOperations.BulkMode.UNORDERED, collection);
        BatchCache cache = batch.get();
        int bulked = 0;
        for (Map.Entry<Object, Pending> e : entries) {
            Object id = e.getKey();
            Pending p = e.getValue();
            forget(collection, id);
            if (cache != null && !cache.contested.isEmpty()
                    && p.appendedDocuments.stream().anyMatch(d -> cache.contested.contains(d.get("key")))) {
                continue; // made one by one below
            }
            bulked++;
            if (p.original == null) {
                bulk.insert(new Document("_id", id).append(VERSION, 1L).append(WRITTEN_BY, token)
                        .append("messages", new java.util.ArrayList<>(p.appendedDocuments)));
            } else {
                Update update = Transcript.COLLECTION.equals(collection)
                        ? new Update().push("messages").each(p.appendedDocuments.toArray())
                        : difference(p.original, p.working);
                bulk.updateOne(Query.query(where("_id").is(id).and(VERSION).is(p.version)),
                        update.inc(VERSION, 1L).set(WRITTEN_BY, token));
            }
        }
        if (bulked > 0) {
            try {
                com.mongodb.bulk.BulkWriteResult result = bulk.execute();
                if (result.getMatchedCount() + result.getInsertedCount() == entries.size()) {
                    return;
                }
            } catch (org.springframework.data.mongodb.BulkOperationException e) {
                if (e.getErrors().stream().anyMatch(error -> error.getCode() != 11000)) {
                    throw e;
                }
                // a transcript created meanwhile: the query below tells which writes applied
            }
        }
        // Some documents changed since the batch read them (an agent's action, another writer): what the
        // batch decided is decided again on the stored document, change by change, as without a batch.
        java.util.Set<Object> written = new java.util.HashSet<>();
        Query mine = Query.query(where("_id").in(entries.stream().map(Map.Entry::getKey).toList()).and(WRITTEN_BY).is(token));
        mine.fields().include("_id");
        mongo().find(mine, Document.class, collection).forEach(d -> written.add(d.get("_id")));
        for (Map.Entry<Object, Pending> e : entries) {
            if (written.contains(e.getKey())) {
                continue;
            }
            String id = String.valueOf(e.getKey());
            for (Document m : e.getValue().appendedDocuments) {
                appendNow(e.getValue().conversation, m);
            }
            for (java.util.function.Function<Document, Update> decision : e.getValue().decisions) {
                versioned(collection, id, decision);
            }
        }
    }

    /** The update that turns {@code from} into {@code to} ($set of changed and new fields, $unset of removed ones). */
    private static Update difference(Document from, Document to) {
        Update u = new Update();
        to.forEach((field, value) -> {
            if (!VERSION.equals(field) && !"_id".equals(field) && !same(from.get(field), value)) {
                u.set(field, value);
            }
        });
        from.keySet().stream().filter(field -> !to.containsKey(field)).forEach(u::unset);
        return u;
    }

    private static boolean same(Object a, Object b) {
        if (a instanceof java.util.Date d) {
            a = d.toInstant();
        }
        if (b instanceof java.util.Date d) {
            b = d.toInstant();
        }
        return java.util.Objects.equals(a, b);
    }

    /**
     * Applies a decision's {@code $set} and {@code $unset} of top-level fields to a document in memory;
     * false if the update does anything else, which cannot be held back.
     */
    private static boolean applyInMemory(Update update, Document to) {
        Document ops = update.getUpdateObject();
        if (!ops.keySet().stream().allMatch(op -> op.equals("$set") || op.equals("$unset"))) {
            return false;
        }
        Document set = ops.get("$set", Document.class);
        Document unset = ops.get("$unset", Document.class);
        if ((set != null && set.keySet().stream().anyMatch(f -> f.contains(".")))
                || (unset != null && unset.keySet().stream().anyMatch(f -> f.contains(".")))) {
            return false;
        }
        if (set != null) {
            to.putAll(set);
        }
        if (unset != null) {
            unset.keySet().forEach(to::remove);
        }
        return true;
    }

    /** The writes held back for this document, or null outside a batch or when there are none. */
    private Pending pending(String collection, Object id) {
        BatchCache cache = batch.get();
        return cache == null ? null : cache.pending.getOrDefault(collection, Map.of()).get(id);
    }

    /**
     * Makes the held-back writes of this conversation now (its message keys first, then its transcript,
     * then the conversation, the flush's order), before a write that does not hold back.
     */
    private void flushOne(String collection, Object id) {
        BatchCache cache = batch.get();
        if (cache == null) {
            return;
        }
        String page = cache.transcriptPage.get(String.valueOf(id));
        if ((page == null || pending(Transcript.COLLECTION, page) == null) && pending(Conversation.COLLECTION, id) == null) {
            return;
        }
        flushKeys(cache);
        if (page != null) {
            cache.transcriptPage.remove(String.valueOf(id));
            flushPending(Transcript.COLLECTION, take(cache.pendingOf(Transcript.COLLECTION), page));
        }
        flushPending(Conversation.COLLECTION, take(cache.pendingOf(Conversation.COLLECTION), id));
    }

    /**
     * {@link #versioned} held back to the batch's flush: the decision is made on the batch's working
     * copy and applied to it, so later reads and decisions in the batch see it.
     *
     * @return true if the decision changed something (written at the flush)
     */
    private boolean heldBack(String collection, String id, java.util.function.Function<Document, Update> decide) {
        BatchCache cache = batch.get();
        if (cache == null) {
            return versioned(collection, id, decide);
        }
        Pending p = cache.pendingOf(collection).get(id);
        if (p == null) {
            Document current = byId(collection, id);
            if (current == null || !(current.get(VERSION) instanceof Number v)) {
                return versioned(collection, id, decide);
            }
            p = new Pending(current, new Document(current), v.longValue());
        }
        Update update = decide.apply(p.working);
        if (update == null) {
            return false;
        }
        Document before = new Document(p.working);
        if (!applyInMemory(update, p.working)) {
            p.working.clear();
            p.working.putAll(before);
            flushOne(collection, id);
            return versioned(collection, id, decide);
        }
        p.decisions.add(decide);
        cache.pendingOf(collection).putIfAbsent(id, p);
        return true;
    }

    /**
     * Loads in a few {@code $in} queries what the batch's messages will look up: their message keys,
     * the identities of their senders with those contacts, their thread keys with those
     * conversations and transcripts. Does nothing outside a batch.
     */
    public void prefetch(java.util.Collection<String> messageKeys, java.util.Collection<String> identityKeys,
                         java.util.Collection<String> threadKeys) {
        if (batch.get() == null) {
            return;
        }
        java.util.Set<Object> conversations = new java.util.LinkedHashSet<>();
        for (Document d : load(MESSAGE_KEYS, messageKeys)) {
            conversations.add(d.getString("conversationId"));
        }
        java.util.Set<Object> contacts = new java.util.LinkedHashSet<>();
        for (Document d : load(IDENTITIES, identityKeys)) {
            contacts.add(d.getString("contactId"));
        }
        load(Contact.COLLECTION, contacts);
        for (Document d : load(THREAD_KEYS, threadKeys)) {
            conversations.add(d.getString("conversationId"));
        }
        conversations.remove(null);
        load(Conversation.COLLECTION, conversations);
        // where this batch's appends go: the last page the conversation names, else the first page and
        // then the last page that one names
        java.util.Set<Object> pages = new java.util.LinkedHashSet<>();
        for (Object id : conversations) {
            int named = pagesNamedBy(byId(Conversation.COLLECTION, id), TRANSCRIPT_PAGES);
            pages.add(named > 0 ? pageId(String.valueOf(id), named) : id);
        }
        java.util.Set<Object> lastPages = new java.util.LinkedHashSet<>();
        for (Document page : load(Transcript.COLLECTION, pages)) {
            int named = conversations.contains(page.get("_id")) ? pagesNamedBy(page, PAGES) : 0;
            if (named > 0) {
                lastPages.add(pageId(String.valueOf(page.get("_id")), named));
            }
        }
        load(Transcript.COLLECTION, lastPages);
    }

    /** The page number a hint field names, 0 if none. */
    private static int pagesNamedBy(Document d, String field) {
        return d != null && d.get(field) instanceof Number n ? n.intValue() : 0;
    }

    /** Reads the documents not yet known to the batch, in chunks of one {@code $in} query each. */
    private List<Document> load(String collection, java.util.Collection<?> ids) {
        BatchCache cache = batch.get();
        Map<Object, Optional<Document>> known = cache.of(collection);
        List<Object> wanted = ids.stream().filter(java.util.Objects::nonNull).distinct().filter(id -> !known.containsKey(id))
                .map(Object.class::cast).toList();
        List<Document> found = new java.util.ArrayList<>();
        for (int from = 0; from < wanted.size(); from += 500) {
            List<Object> chunk = wanted.subList(from, Math.min(wanted.size(), from + 500));
            for (Object id : chunk) {
                known.put(id, Optional.empty());
            }
            for (Document d : template.find(Query.query(where("_id").in(chunk)), Document.class, collection)) {
                known.put(d.get("_id"), Optional.of(d));
                found.add(d);
            }
        }
        return found;
    }

    /** A document by id: from the batch when it knows it, else from the store (and then remembered). */
    private Document byId(String collection, Object id) {
        BatchCache cache = batch.get();
        if (cache == null) {
            return template.findById(id, Document.class, collection);
        }
        Pending held = pending(collection, id);
        if (held != null) {
            return held.working;
        }
        Map<Object, Optional<Document>> known = cache.of(collection);
        Optional<Document> hit = known.get(id);
        if (hit != null) {
            return hit.orElse(null);
        }
        Document d = template.findById(id, Document.class, collection);
        known.put(id, Optional.ofNullable(d));
        return d;
    }

    private <T> T byId(String collection, Object id, Class<T> type) {
        Document d = byId(collection, id);
        return d == null ? null : template.getConverter().read(type, d);
    }

    /** After an insert: the batch knows the document as written. */
    private void remember(String collection, Document written) {
        BatchCache cache = batch.get();
        if (cache != null) {
            cache.of(collection).put(written.get("_id"), Optional.of(written));
        }
    }

    /** A document the batch knows cannot exist (its id was generated just now). */
    private void rememberAbsent(String collection, Object id) {
        BatchCache cache = batch.get();
        if (cache != null) {
            cache.of(collection).put(id, Optional.empty());
        }
    }

    /** After an update: the batch reads the document again when it needs it. */
    private void forget(String collection, Object id) {
        BatchCache cache = batch.get();
        if (cache != null) {
            cache.of(collection).remove(id);
        }
    }

    /** After an update of many documents: the batch reads the collection again. */
    private void forgetAll(String collection) {
        BatchCache cache = batch.get();
        if (cache != null) {
            cache.of(collection).clear();
        }
    }

    /**
     * Applies {@code decide}'s change to the current document if nobody changed it meanwhile,
     * reading again otherwise. {@code decide} returns null when there is nothing to change.
     *
     * @return true if a change was written; false if the document is missing or nothing changed
     */
    private boolean versioned(String collection, String id, java.util.function.Function<Document, Update> decide) {
        flushOne(collection, id); // this write must see, and not race, what the batch holds back for the document
        for (int attempt = 0; attempt < 100; attempt++) {
            // the batch's copy first: if it is stale, the version check fails and the next attempt reads the store
            Document current = attempt == 0 ? byId(collection, id) : mongo().findById(id, Document.class, collection);
            forget(collection, id);
            if (current == null) {
                return false;
            }
            Object v = current.get(VERSION);
            if (!(v instanceof Number)) {
                // written before versions existed: give it one ($max never lowers a version set meanwhile)
                mongo().updateFirst(Query.query(where("_id").is(id)), new Update().max(VERSION, 0L), collection);
                continue;
            }
            Update update = decide.apply(current);
            if (update == null) {
                return false;
            }
            update.inc(VERSION, 1L);
            if (mongo().updateFirst(Query.query(where("_id").is(id).and(VERSION).is(((Number) v).longValue())), update, collection)
                    .getModifiedCount() > 0) {
                return true;
            }
        }
        throw new IllegalStateException(collection + " " + id + " kept changing under 100 attempts to update it");
    }

    private static Instant instant(Document d, String field) {
        Object v = d.get(field);
        return v instanceof java.util.Date date ? date.toInstant() : v instanceof Instant i ? i : null;
    }

    @SuppressWarnings("unchecked")
    private static List<Document> messagesOf(Document transcript) {
        Object m = transcript.get("messages");
        return m instanceof List<?> list ? (List<Document>) list : List.of();
    }

    private static int indexIn(Document transcript, String field, String value) {
        List<Document> messages = messagesOf(transcript);
        for (int i = 0; i < messages.size(); i++) {
            if (value.equals(messages.get(i).get(field))) {
                return i;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------ contacts

    /** The contact owning this identity, created on first sight; follows merges. */
    public String contactFor(Identity identity, String displayName, Instant at) {
        return contactRecordFor(identity, displayName, at).id();
    }

    /**
     * The contact owning this identity (created on first sight, merges followed), as stored after
     * this call: two round trips when the identity is known and the contact was never merged.
     */
    public Contact contactRecordFor(Identity identity, String displayName, Instant at) {
        Document known = byId(IDENTITIES, identity.key());
        Document knownContact = known == null ? null : byId(Contact.COLLECTION, known.getString("contactId"));
        if (knownContact != null && knownContact.get("mergedInto") == null
                && (knownContact.get("displayName") != null || displayName == null || displayName.isBlank())
                && knownContact.get("identities") instanceof List<?> ids
                && ids.contains(new Document("type", identity.type()).append("value", identity.value()))) {
            return template.getConverter().read(Contact.class, knownContact); // nothing to write: a returning customer
        }
        if (known == null) {
            // a new sender in a batch: identity and contact are inserted at its flush (the upserts below otherwise)
            String id = UUID.randomUUID().toString();
            Document contact = new Document("_id", id).append("createdAt", java.util.Date.from(at)).append("unreachable", false)
                    .append("identities", new java.util.ArrayList<>(List.of(new Document("type", identity.type())
                            .append("value", identity.value()))))
                    .append("updatedAt", java.util.Date.from(at));
            if (displayName != null && !displayName.isBlank()) {
                contact.append("displayName", displayName);
            }
            if (holdBackCreation(IDENTITIES, new Document("_id", identity.key()).append("contactId", id)
                    .append("createdAt", java.util.Date.from(at)))) {
                holdBackCreation(Contact.COLLECTION, contact);
                return template.getConverter().read(Contact.class, contact);
            }
        }
        forget(IDENTITIES, identity.key());
        String candidate = UUID.randomUUID().toString();
        Document index = mongo().findAndModify(Query.query(where("_id").is(identity.key())),
                new Update().setOnInsert("contactId", candidate).setOnInsert("createdAt", at),
                FindAndModifyOptions.options().upsert(true).returnNew(true), Document.class, IDENTITIES);
        String contactId = index.getString("contactId");
        remember(IDENTITIES, index);
        forget(Contact.COLLECTION, contactId);
        Update contact = new Update()
                .setOnInsert("createdAt", at)
                .setOnInsert("unreachable", false)
                .addToSet("identities", new Document("type", identity.type()).append("value", identity.value()))
                .set("updatedAt", at);
        if (displayName != null && !displayName.isBlank()) {
            contact.setOnInsert("displayName", displayName);
        }
        Contact stored = mongo().findAndModify(Query.query(where("_id").is(contactId)), contact,
                FindAndModifyOptions.options().upsert(true).returnNew(true), Contact.class);
        if (stored != null && stored.mergedInto() == null) {
            return stored;
        }
        return contact(resolveMerged(contactId)).orElse(stored);
    }

    /**
     * Adds identities and profile fields to a contact; the index points each new identity at it.
     * An identity (or account login) that already belongs to someone else is not moved: the
     * pair becomes a merge suggestion for agents, since only a person can tell whether they match.
     */
    public void enrichContact(String contactId, List<Identity> identities, Map<String, String> fields, Instant at) {
        Update update = new Update().set("updatedAt", at);
        // one $addToSet with $each: a second addToSet on the same field would replace the first in the Update
        List<Document> added = new java.util.ArrayList<>();
        for (Identity identity : identities) {
            String owner = claimIdentity(contactId, identity, at);
            if (owner.equals(contactId)) {
                added.add(new Document("type", identity.type()).append("value", identity.value()));
            } else {
                suggestMerge(owner, contactId, "both use " + identity.type() + " " + identity.value(), at);
            }
        }
        if (!added.isEmpty()) {
            update.addToSet("identities").each(added.toArray());
        }
        fields.forEach((k, v) -> {
            if (v != null && !v.isBlank()) {
                update.set(k, v);
            }
        });
        String login = fields.get("login");
        if (login != null && !login.isBlank()) {
            String owner = claim(LOGINS, login.trim().toLowerCase(java.util.Locale.ROOT), "contactId", contactId, at);
            if (!resolveMerged(owner).equals(contactId)) {
                suggestMerge(resolveMerged(owner), contactId, "both gave account login " + login.trim(), at);
            }
        }
        mongo().updateFirst(Query.query(where("_id").is(contactId)), update, Contact.COLLECTION);
        forget(Contact.COLLECTION, contactId);
    }

    /** Points the identity at the contact if it is free; returns its owner (this contact or another). */
    public String claimIdentity(String contactId, Identity identity, Instant at) {
        return resolveMerged(claim(IDENTITIES, identity.key(), "contactId", contactId, at));
    }

    private String claim(String collection, String key, String field, String value, Instant at) {
        try {
            Document claimed = new Document("_id", key).append(field, value).append("createdAt", at);
            mongo().insert(claimed, collection);
            remember(collection, claimed);
            return value;
        } catch (DuplicateKeyException taken) {
            forget(collection, key);
            Document owner = byId(collection, key);
            return owner == null ? value : owner.getString(field);
        }
    }

    /** Records that two contacts look like one person; the pair is stored once, in either order. */
    public void suggestMerge(String a, String b, String reason, Instant at) {
        if (a.equals(b)) {
            return;
        }
        String first = a.compareTo(b) < 0 ? a : b;
        String second = first.equals(a) ? b : a;
        mongo().upsert(Query.query(where("_id").is(first + "|" + second)), new Update()
                .setOnInsert("contacts", List.of(first, second)).setOnInsert("reason", reason)
                .setOnInsert("createdAt", at), MERGE_SUGGESTIONS);
    }

    /** Open merge suggestions involving this contact: the other contact's id and the reason. */
    public List<Map<String, String>> mergeSuggestions(String contactId) {
        List<Map<String, String>> out = new java.util.ArrayList<>();
        for (Document d : mongo().find(Query.query(where("contacts").is(contactId)), Document.class, MERGE_SUGGESTIONS)) {
            @SuppressWarnings("unchecked")
            List<String> pair = (List<String>) d.get("contacts");
            String other = pair.get(0).equals(contactId) ? pair.get(1) : pair.get(0);
            if (!resolveMerged(other).equals(contactId)) {
                out.add(Map.of("contactId", other, "reason", d.getString("reason")));
            }
        }
        return out;
    }

    /**
     * Merges {@code mergedId} into {@code survivorId}: its identities, its login and its
     * conversations move to the survivor, and future messages from any of its identities land
     * there too. The merge is recorded; every step is idempotent, so an interrupted merge is
     * completed by running it again.
     *
     * @throws IllegalArgumentException when a contact is missing, they are the same, or the merged
     *                                  contact was already merged into a different one
     */
    public Contact mergeContacts(String survivorId, String mergedId, String by, Instant at) {
        if (survivorId.equals(mergedId)) {
            throw new IllegalArgumentException("a contact cannot be merged into itself");
        }
        Contact survivor = contact(survivorId).orElseThrow(() -> new IllegalArgumentException("no contact " + survivorId));
        Contact merged = contact(mergedId).orElseThrow(() -> new IllegalArgumentException("no contact " + mergedId));
        if (survivor.mergedInto() != null) {
            throw new IllegalArgumentException("contact " + survivorId + " was itself merged into " + survivor.mergedInto());
        }
        if (merged.mergedInto() != null && !merged.mergedInto().equals(survivorId)) {
            throw new IllegalArgumentException("contact " + mergedId + " was already merged into " + merged.mergedInto());
        }
        String recorded = claim(CONTACT_MERGES, mergedId, "into", survivorId, at);
        if (!recorded.equals(survivorId)) {
            throw new IllegalArgumentException("contact " + mergedId + " was already merged into " + recorded);
        }
        mongo().updateFirst(Query.query(where("_id").is(mergedId)), new Update().set("by", by).set("at", at), CONTACT_MERGES);
        forgetAll(IDENTITIES);
        forgetAll(LOGINS);
        forgetAll(Contact.COLLECTION);
        forgetAll(Conversation.COLLECTION);
        mongo().updateMulti(Query.query(where("contactId").is(mergedId)), new Update().set("contactId", survivorId), IDENTITIES);
        mongo().updateMulti(Query.query(where("contactId").is(mergedId)), new Update().set("contactId", survivorId), LOGINS);
        Update survivorUpdate = new Update().set("updatedAt", at);
        if (!merged.identities().isEmpty()) {
            survivorUpdate.addToSet("identities").each(merged.identities().stream()
                    .map(identity -> new Document("type", identity.type()).append("value", identity.value())).toArray());
        }
        if (survivor.login() == null && merged.login() != null) {
            survivorUpdate.set("login", merged.login());
        }
        if (survivor.project() == null && merged.project() != null) {
            survivorUpdate.set("project", merged.project());
        }
        if (!merged.tags().isEmpty()) {
            // the person keeps the labels given to either record (an SLA policy may match them)
            survivorUpdate.addToSet("tags").each(merged.tags().toArray());
        }
        mongo().updateFirst(Query.query(where("_id").is(survivorId)), survivorUpdate, Contact.COLLECTION);
        String name = mergedName(survivor.displayName(), merged.displayName());
        mongo().updateMulti(Query.query(where("contactId").is(mergedId)),
                new Update().set("contactId", survivorId).set("contactName", name), Conversation.COLLECTION);
        mongo().updateFirst(Query.query(where("_id").is(mergedId)), new Update().set("mergedInto", survivorId).set("updatedAt", at),
                Contact.COLLECTION);
        String first = survivorId.compareTo(mergedId) < 0 ? survivorId : mergedId;
        mongo().remove(Query.query(where("_id").is(first + "|" + (first.equals(survivorId) ? mergedId : survivorId))), MERGE_SUGGESTIONS);
        return contact(survivorId).orElseThrow();
    }

    /** Conversations of a contact, newest first (for the agent's contact panel). */
    public List<Conversation> conversationsOf(String contactId) {
        List<Conversation> found = new java.util.ArrayList<>(mongo().find(Query.query(where("contactId").is(contactId)), Conversation.class));
        found.sort(java.util.Comparator.comparing(Conversation::lastMessageAt, java.util.Comparator.nullsLast(java.util.Comparator.reverseOrder())));
        return found;
    }

    public void markContactReachable(String contactId, boolean reachable, Instant at) {
        mongo().updateFirst(Query.query(where("_id").is(contactId)),
                new Update().set("unreachable", !reachable).set("updatedAt", at), Contact.COLLECTION);
        mongo().updateMulti(Query.query(where("contactId").is(contactId)),
                new Update().set("unreachable", !reachable), Conversation.COLLECTION);
        forget(Contact.COLLECTION, contactId);
        forgetAll(Conversation.COLLECTION);
    }

    public Optional<String> contactOfIdentity(Identity identity) {
        Document index = byId(IDENTITIES, identity.key());
        return Optional.ofNullable(index).map(d -> resolveMerged(d.getString("contactId")));
    }

    public Optional<Contact> contact(String id) {
        return Optional.ofNullable(byId(Contact.COLLECTION, id, Contact.class));
    }

    /** The name a merged contact's conversations show: the survivor's, else the merged one's. */
    private static String mergedName(String survivorName, String mergedName) {
        return survivorName != null ? survivorName : mergedName;
    }

    private String resolveMerged(String contactId) {
        return resolveMerged(contactId, id -> byId(Contact.COLLECTION, id));
    }

    /** The contact a chain of merges ends at, reading contacts with {@code read}. */
    private static String resolveMerged(String contactId, java.util.function.Function<String, Document> read) {
        String id = contactId;
        for (int hops = 0; hops < 10; hops++) {
            Document c = read.apply(id);
            String next = c == null ? null : c.getString("mergedInto");
            if (next == null) {
                return id;
            }
            id = next;
        }
        return id;
    }

    // ------------------------------------------------------------------ conversations

    /** What the router knows when a customer message needs a conversation. */
    public record ThreadRequest(
            String channel,
            String account,
            String threadKey,
            List<String> lookupKeys,
            String contactId,
            String contactName,
            String subject,
            Map<String, String> replyAddress,
            Instant at,
            Duration reopenWindow) {
    }

    /**
     * The conversation a customer message belongs to: one found by any lookup key (an email
     * In-Reply-To or References id), else the thread's current one. A resolved conversation is
     * reopened when the message comes within the reopen window (or the channel has none), and a
     * new one starts after it.
     */
    public Conversation conversationFor(ThreadRequest request) {
        for (String key : request.lookupKeys()) {
            Optional<String> found = conversationByThreadKey(key);
            if (found.isPresent()) {
                Conversation c = find(found.get()).orElse(null);
                if (c != null) {
                    indexThreadKey(request.threadKey(), c.id(), request.at());
                    return reopenIfResolved(c, request.at());
                }
            }
        }
        Document index = byId(THREAD_KEYS, request.threadKey());
        boolean newThread = false;
        if (index == null && holdBackCreation(THREAD_KEYS, new Document("_id", request.threadKey())
                .append("conversationId", UUID.randomUUID().toString()).append("createdAt", java.util.Date.from(request.at())))) {
            // a new thread in a batch: its key and conversation are inserted at the batch's flush
            index = byId(THREAD_KEYS, request.threadKey());
            newThread = true;
        } else if (index == null) {
            String candidate = UUID.randomUUID().toString();
            index = mongo().findAndModify(Query.query(where("_id").is(request.threadKey())),
                    new Update().setOnInsert("conversationId", candidate).setOnInsert("createdAt", request.at()),
                    FindAndModifyOptions.options().upsert(true).returnNew(true), Document.class, THREAD_KEYS);
            remember(THREAD_KEYS, index);
            newThread = candidate.equals(index.getString("conversationId"));
        }
        String conversationId = index.getString("conversationId");
        if (newThread) {
            // our fresh random id won the thread key just now: nothing can exist under it yet
            rememberAbsent(Conversation.COLLECTION, conversationId);
            rememberAbsent(Transcript.COLLECTION, conversationId);
        }
        Conversation existing = find(conversationId).orElse(null);
        if (existing == null) {
            return create(conversationId, request);
        }
        if ((existing.replyAddress() == null || existing.replyAddress().isEmpty()) && request.replyAddress() != null
                && !request.replyAddress().isEmpty()) {
            // started by an echo of our own message, which knew no address: the customer's message brings it
            mongo().updateFirst(Query.query(where("_id").is(conversationId)), new Update().set("replyAddress", request.replyAddress()),
                    Conversation.COLLECTION);
            forget(Conversation.COLLECTION, conversationId);
            existing = find(conversationId).orElseThrow();
        }
        if (!Conversation.RESOLVED.equals(existing.status())) {
            return existing;
        }
        Instant resolvedAt = existing.resolvedAt() == null ? existing.lastMessageAt() : existing.resolvedAt();
        boolean withinWindow = request.reopenWindow() == null || resolvedAt == null
                || !request.at().isAfter(resolvedAt.plus(request.reopenWindow()));
        if (withinWindow) {
            return reopenIfResolved(existing, request.at());
        }
        // Past the window: the thread moves to a new conversation. The compare-and-set on the old
        // id lets one concurrent writer win; the others follow its choice.
        String next = UUID.randomUUID().toString();
        Document moved = mongo().findAndModify(
                Query.query(where("_id").is(request.threadKey()).and("conversationId").is(conversationId)),
                new Update().set("conversationId", next), FindAndModifyOptions.options().returnNew(true),
                Document.class, THREAD_KEYS);
        forget(THREAD_KEYS, request.threadKey());
        if (moved == null) {
            String current = conversationByThreadKey(request.threadKey()).orElseThrow();
            return find(current).orElseGet(() -> create(current, request));
        }
        rememberAbsent(Transcript.COLLECTION, next);
        return create(next, request);
    }

    /** Profile fields the customer gave with this conversation (login, project, topic). */
    public void setConversationFields(String conversationId, Map<String, String> fields) {
        Update update = new Update();
        fields.forEach((k, v) -> {
            if (v != null && !v.isBlank()) {
                update.set(k, v);
            }
        });
        if (!update.getUpdateObject().isEmpty()) {
            mongo().updateFirst(Query.query(where("_id").is(conversationId)), update, Conversation.COLLECTION);
            forget(Conversation.COLLECTION, conversationId);
        }
    }

    private Conversation create(String id, ThreadRequest r) {
        java.util.Date at = java.util.Date.from(r.at());
        // the document the upsert below creates, held back to the batch's flush
        Document document = new Document("_id", id).append("channel", r.channel()).append("account", r.account())
                .append("threadKey", r.threadKey()).append("status", Conversation.OPEN).append("priority", "normal")
                .append("subject", r.subject()).append("contactId", r.contactId()).append("contactName", r.contactName())
                .append("replyAddress", r.replyAddress() == null ? null : new Document(new java.util.LinkedHashMap<String, Object>(r.replyAddress())))
                .append("unreachable", false).append("createdAt", at).append(VERSION, 0L).append("updatedAt", at);
        if (holdBackCreation(Conversation.COLLECTION, document)) {
            return template.getConverter().read(Conversation.class, document);
        }
        Update update = new Update()
                .setOnInsert("channel", r.channel())
                .setOnInsert("account", r.account())
                .setOnInsert("threadKey", r.threadKey())
                .setOnInsert("status", Conversation.OPEN)
                .setOnInsert("priority", "normal")
                .setOnInsert("subject", r.subject())
                .setOnInsert("contactId", r.contactId())
                .setOnInsert("contactName", r.contactName())
                .setOnInsert("replyAddress", r.replyAddress())
                .setOnInsert("unreachable", false)
                .setOnInsert("createdAt", r.at())
                .setOnInsert(VERSION, 0L)
                .set("updatedAt", r.at());
        Document created = mongo().findAndModify(Query.query(where("_id").is(id)), update,
                FindAndModifyOptions.options().upsert(true).returnNew(true), Document.class, Conversation.COLLECTION);
        remember(Conversation.COLLECTION, created);
        return template.getConverter().read(Conversation.class, created);
    }

    private Conversation reopenIfResolved(Conversation c, Instant at) {
        if (!Conversation.RESOLVED.equals(c.status())) {
            return c;
        }
        versioned(Conversation.COLLECTION, c.id(), d -> Conversation.RESOLVED.equals(d.getString("status"))
                ? new Update().set("status", Conversation.OPEN).unset("resolvedAt").set("updatedAt", at).set("reopenedAt", at)
                : null);
        return find(c.id()).orElseThrow();
    }

    public Optional<String> conversationByThreadKey(String key) {
        return Optional.ofNullable(byId(THREAD_KEYS, key)).map(d -> d.getString("conversationId"));
    }

    /** Points a thread key at a conversation unless it already points somewhere. */
    public void indexThreadKey(String key, String conversationId, Instant at) {
        try {
            if (byId(THREAD_KEYS, key) != null) {
                return; // indexed already (in this batch's view; the insert below is the real check)
            }
            Document indexed = new Document("_id", key).append("conversationId", conversationId).append("createdAt", at);
            mongo().insert(indexed, THREAD_KEYS);
            remember(THREAD_KEYS, indexed);
        } catch (DuplicateKeyException alreadyIndexed) {
            forget(THREAD_KEYS, key);
            // first writer wins: a key never moves silently between conversations
        }
    }

    /** Ids of a contact's conversations on one channel account (e.g. to apply a read watermark). */
    public List<String> conversationIdsOf(String contactId, String channel, String account) {
        Query query = Query.query(where("contactId").is(contactId).and("channel").is(channel).and("account").is(account));
        query.fields().include("_id");
        return mongo().find(query, Document.class, Conversation.COLLECTION).stream().map(d -> String.valueOf(d.get("_id"))).toList();
    }

    /** Which of these conversations are stored: one {@code _id $in} query, ids only. */
    public java.util.Set<String> storedConversations(java.util.Collection<String> ids) {
        java.util.Set<String> out = new java.util.HashSet<>();
        List<String> all = new java.util.ArrayList<>(new java.util.LinkedHashSet<>(ids));
        for (int from = 0; from < all.size(); from += 500) {
            Query q = Query.query(where("_id").in(all.subList(from, Math.min(all.size(), from + 500))));
            q.fields().include("_id");
            for (Document d : mongo().find(q, Document.class, Conversation.COLLECTION)) {
                out.add(d.getString("_id"));
            }
        }
        return out;
    }

    public Optional<Conversation> find(String id) {
        return Optional.ofNullable(byId(Conversation.COLLECTION, id, Conversation.class));
    }

    /** All messages of a conversation, its pages joined in order. */
    public Optional<Transcript> transcript(String id) {
        List<Document> pages = pages(id, false);
        if (pages.size() <= 1) {
            return pages.stream().findFirst().map(d -> template.getConverter().read(Transcript.class, d));
        }
        List<Document> all = new java.util.ArrayList<>();
        pages.forEach(page -> all.addAll(messagesOf(page)));
        return Optional.of(template.getConverter().read(Transcript.class, new Document("_id", id).append("messages", all)));
    }

    // ------------------------------------------------------------------ transcript pages (ADR 0151)

    /** The id of a transcript page: the conversation's for the first, so transcripts written before pages read as one page. */
    public static String pageId(String conversationId, int page) {
        return page == 0 ? conversationId : conversationId + "/" + page;
    }

    /**
     * A conversation's transcript pages in order, empty if it has none: from the first, each sealed page
     * followed by the next. A sealed page whose successor is missing (a crash between sealing it and
     * opening the next) ends the chain; the next append opens the successor. {@code fresh} reads the
     * store, not the batch.
     */
    private List<Document> pages(String conversationId, boolean fresh) {
        List<Document> pages = new java.util.ArrayList<>();
        for (int n = 0; ; n++) {
            String id = pageId(conversationId, n);
            Document page = fresh ? mongo().findById(id, Document.class, Transcript.COLLECTION) : byId(Transcript.COLLECTION, id);
            if (page == null) {
                return pages;
            }
            pages.add(page);
            if (!page.getBoolean(SEALED, false)) {
                return pages;
            }
        }
    }

    /**
     * The page appends go to, through the batch: the conversation's hint names it (else the first page's),
     * and sealed pages after it are followed (a hint is set after the page opens, so it may lag). Null if
     * there is no transcript; a sealed page if its successor is missing.
     */
    private Document lastPage(String conversationId) {
        int n = pagesNamedBy(byId(Conversation.COLLECTION, conversationId), TRANSCRIPT_PAGES);
        Document page = n > 0 ? byId(Transcript.COLLECTION, pageId(conversationId, n)) : null;
        if (page == null) {
            Document first = byId(Transcript.COLLECTION, conversationId);
            if (first == null) {
                return null;
            }
            n = pagesNamedBy(first, PAGES);
            page = n == 0 ? null : byId(Transcript.COLLECTION, pageId(conversationId, n));
            if (page == null) {
                n = 0;
                page = first;
            }
        }
        while (page.getBoolean(SEALED, false)) {
            Document next = byId(Transcript.COLLECTION, pageId(conversationId, n + 1));
            if (next == null) {
                return page;
            }
            page = next;
            n++;
        }
        return page;
    }

    /** Whether appending {@code message} would take a non-empty page past a bound. */
    private boolean full(Document page, Object message) {
        List<Document> messages = messagesOf(page);
        if (messages.isEmpty()) {
            return false;
        }
        if (messages.size() >= pageMessages) {
            return true;
        }
        long bytes = estimatedBytes(message);
        for (Document m : messages) {
            bytes += estimatedBytes(m);
        }
        return bytes > pageBytes;
    }

    /**
     * An upper estimate of a value's BSON size: three bytes per character (UTF-8 of most scripts), and a
     * few bytes per field for names, types and lengths. Cheaper than encoding the page on every append.
     */
    static long estimatedBytes(Object value) {
        if (value instanceof CharSequence text) {
            return 3L * text.length() + 8;
        }
        if (value instanceof Map<?, ?> map) {
            long bytes = 8;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                bytes += 3L * String.valueOf(e.getKey()).length() + 2 + estimatedBytes(e.getValue());
            }
            return bytes;
        }
        if (value instanceof java.util.Collection<?> list) {
            long bytes = 8;
            for (Object item : list) {
                bytes += 8 + estimatedBytes(item);
            }
            return bytes;
        }
        if (value instanceof byte[] bytes) {
            return bytes.length + 8L;
        }
        return 16;
    }

    /**
     * {@link #versioned} on the transcript page holding the message whose {@code field} is {@code value}
     * (the first page if none does). Messages never move between pages, so the page found stays right;
     * the decision finds the message again under the version check.
     */
    private boolean versionedPage(String conversationId, String field, String value,
                                  java.util.function.Function<Document, Update> decide) {
        flushOne(Transcript.COLLECTION, conversationId); // the held-back appends of its last page first
        String page = pageHolding(pages(conversationId, false), field, value);
        if (page == null) {
            // the batch's copies may predate the message or its page: the store decides
            page = pageHolding(pages(conversationId, true), field, value);
        }
        return versioned(Transcript.COLLECTION, page == null ? conversationId : page, decide);
    }

    private static String pageHolding(List<Document> pages, String field, String value) {
        for (Document d : pages) {
            if (indexIn(d, field, value) >= 0) {
                return String.valueOf(d.get("_id"));
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ messages

    /** A channel message already stored: which conversation, and which outbound message it was if ours. */
    public record MessageKey(String key, String conversationId, String outboundMessageId) {
    }

    public Optional<MessageKey> messageKey(String key) {
        Document d = byId(MESSAGE_KEYS, key);
        return Optional.ofNullable(d).map(x -> new MessageKey(key, x.getString("conversationId"), x.getString("outboundMessageId")));
    }

    /** Claims a message key for a conversation; returns the conversation that holds it (first claim wins). */
    public MessageKey claimMessageKey(String key, String conversationId, String outboundMessageId) {
        BatchCache cache = batch.get();
        if (cache != null && outboundMessageId == null) {
            Document claimed = byId(MESSAGE_KEYS, key);
            if (claimed != null) {
                return new MessageKey(key, claimed.getString("conversationId"), claimed.getString("outboundMessageId"));
            }
            // held back to the batch's flush, which inserts every key of the batch at once; a key claimed
            // meanwhile by another writer keeps its first claim there (its thread key resolved the same
            // conversation, and appending is idempotent by key)
            Document d = new Document("_id", key).append("conversationId", conversationId);
            cache.pendingKeys.add(d);
            cache.claimedHere.add(key);
            remember(MESSAGE_KEYS, d);
            return new MessageKey(key, conversationId, null);
        }
        try {
            Document d = new Document("_id", key).append("conversationId", conversationId);
            if (outboundMessageId != null) {
                d.append("outboundMessageId", outboundMessageId);
            }
            mongo().insert(d, MESSAGE_KEYS);
            remember(MESSAGE_KEYS, d);
            return new MessageKey(key, conversationId, outboundMessageId);
        } catch (DuplicateKeyException alreadyClaimed) {
            forget(MESSAGE_KEYS, key);
            return messageKey(key).orElseThrow();
        }
    }

    /**
     * Appends a message unless one with the same key is there already.
     *
     * @return true if it was added by this call
     */
    public boolean appendMessage(String conversationId, Message message) {
        BatchCache cache = batch.get();
        if (cache != null) {
            // A key this batch claimed first is on no page yet, the first time it is appended, whichever way
            // that append goes (the same record twice in a batch comes here twice)
            boolean firstAppend = cache.claimedHere.remove(message.key());
            String held = cache.transcriptPage.get(conversationId);
            Pending p = held == null ? null : cache.pendingOf(Transcript.COLLECTION).get(held);
            if (p == null) {
                Document last = lastPage(conversationId);
                if (last == null) {
                    p = new Pending(null, new Document("_id", conversationId).append("messages", new java.util.ArrayList<>()), 0,
                            conversationId);
                } else if (last.get(VERSION) instanceof Number v && !last.getBoolean(SEALED, false)) {
                    Document working = new Document(last);
                    working.put("messages", new java.util.ArrayList<>(messagesOf(last)));
                    p = new Pending(last, working, v.longValue(), conversationId);
                }
            }
            Document stored = (Document) template.getConverter().convertToMongoType(message);
            if (p != null && !full(p.working, stored)) {
                String page = String.valueOf(p.working.get("_id"));
                if (indexIn(p.working, "key", message.key()) >= 0) {
                    return false;
                }
                // otherwise every page before this one is checked
                if (!firstAppend) {
                    Boolean earlier = onEarlierPage(conversationId, page, message.key());
                    if (earlier == null) {
                        flushOne(Transcript.COLLECTION, conversationId);
                        return appendNow(conversationId, stored);
                    }
                    if (earlier) {
                        return false;
                    }
                }
                messagesOf(p.working).add(stored);
                p.appendedDocuments.add(stored);
                cache.pendingOf(Transcript.COLLECTION).putIfAbsent(page, p);
                cache.transcriptPage.put(conversationId, page);
                return true;
            }
        }
        flushOne(Transcript.COLLECTION, conversationId);
        return appendNow(conversationId, (Document) template.getConverter().convertToMongoType(message));
    }

    /**
     * Whether a page before {@code pageId} holds the key, reading each by number through the batch; null
     * if one of them is missing or not sealed (the batch's copy predates its sealing, so it may lack later
     * messages): a view that does not add up, which the caller leaves to {@link #appendNow}.
     */
    private Boolean onEarlierPage(String conversationId, String pageId, String key) {
        int last = pageId.equals(conversationId) ? 0 : Integer.parseInt(pageId.substring(conversationId.length() + 1));
        for (int n = 0; n < last; n++) {
            Document page = byId(Transcript.COLLECTION, pageId(conversationId, n));
            if (page == null || !page.getBoolean(SEALED, false)) {
                return null;
            }
            if (indexIn(page, "key", key) >= 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@link #appendMessage} written at once: onto the last page, or, when that is full, onto a new page
     * after sealing it (each step version-checked or a unique insert, so concurrent appends agree).
     */
    private boolean appendNow(String conversationId, Document stored) {
        String key = stored.getString("key");
        for (int attempt = 0; attempt < 100; attempt++) {
            List<Document> pages = pages(conversationId, attempt > 0);
            pages.forEach(d -> forget(Transcript.COLLECTION, d.get("_id")));
            if (pages.isEmpty()) {
                try {
                    mongo().insert(new Document("_id", conversationId).append(VERSION, 1L)
                            .append("messages", List.of(stored)), Transcript.COLLECTION);
                    return true;
                } catch (DuplicateKeyException createdMeanwhile) {
                    continue;
                }
            }
            if (pages.stream().anyMatch(d -> indexIn(d, "key", key) >= 0)) {
                return false;
            }
            int n = pages.size() - 1;
            Document last = pages.get(n);
            Object v = last.get(VERSION);
            if (!(v instanceof Number)) {
                mongo().updateFirst(Query.query(where("_id").is(last.get("_id"))), new Update().max(VERSION, 0L), Transcript.COLLECTION);
                continue;
            }
            // the same version check as versioned(), on the document already read
            Query unchanged = Query.query(where("_id").is(last.get("_id")).and(VERSION).is(((Number) v).longValue()));
            if (!last.getBoolean(SEALED, false) && !full(last, stored)) {
                if (mongo().updateFirst(unchanged, new Update().push("messages", stored).inc(VERSION, 1L), Transcript.COLLECTION)
                        .getModifiedCount() > 0) {
                    return true;
                }
                continue;
            }
            if (!last.getBoolean(SEALED, false)
                    && mongo().updateFirst(unchanged, new Update().set(SEALED, true).inc(VERSION, 1L), Transcript.COLLECTION)
                    .getModifiedCount() == 0) {
                continue;
            }
            String next = pageId(conversationId, n + 1);
            forget(Transcript.COLLECTION, next); // the batch may know it as absent
            try {
                mongo().insert(new Document("_id", next).append(VERSION, 1L)
                        .append("messages", List.of(stored)), Transcript.COLLECTION);
            } catch (DuplicateKeyException openedMeanwhile) {
                continue;
            }
            // the hints: later appends start at this page ($max: a later page's hint stays)
            mongo().updateFirst(Query.query(where("_id").is(conversationId)), new Update().max(PAGES, n + 1), Transcript.COLLECTION);
            forget(Transcript.COLLECTION, conversationId);
            mongo().updateFirst(Query.query(where("_id").is(conversationId)), new Update().max(TRANSCRIPT_PAGES, n + 1),
                    Conversation.COLLECTION);
            forget(Conversation.COLLECTION, conversationId);
            return true;
        }
        throw new IllegalStateException("transcript " + conversationId + " kept changing under 100 attempts to append");
    }

    /**
     * The customer wrote: times move, the preview follows the newest message, a waiting clock starts,
     * and a pending or snoozed conversation is open again.
     *
     * @return true if this call moved the conversation back to open
     */
    public boolean recordCustomerMessage(String conversationId, Message message) {
        Instant t = message.sentAt();
        String preview = preview(message.text());
        boolean[] reopened = {false};
        heldBack(Conversation.COLLECTION, conversationId, d -> {
            reopened[0] = false;
            Update u = new Update().set("updatedAt", t);
            Instant last = instant(d, "lastMessageAt");
            if (last == null || !t.isBefore(last)) {
                u.set("lastMessageAt", t).set("preview", preview);
            }
            String search = searchText(d.getString(SEARCH), message.text());
            if (search != null) {
                u.set(SEARCH, search);
            }
            earliest(u, d, "firstMessageAt", t);
            if (!message.automatic()) {
                earliest(u, d, "firstCustomerMessageAt", t);
                latest(u, d, "lastCustomerMessageAt", t);
                // The customer is waiting from their first message after our last response.
                Instant lastAgent = instant(d, "lastAgentMessageAt");
                if (d.get("awaitingSince") == null && (lastAgent == null || !lastAgent.isAfter(t))) {
                    u.set("awaitingSince", t);
                }
                if (Conversation.PENDING.equals(d.getString("status")) || Conversation.SNOOZED.equals(d.getString("status"))) {
                    u.set("status", Conversation.OPEN).set("reopenedAt", t);
                    reopened[0] = true;
                }
            }
            return u;
        });
        return reopened[0];
    }

    /** An agent's public reply was sent: the first-response clock stops, the customer no longer waits. */
    public void recordAgentResponse(String conversationId, Instant t, String text) {
        versioned(Conversation.COLLECTION, conversationId, d -> {
            Update u = new Update().set("updatedAt", t);
            Instant last = instant(d, "lastMessageAt");
            if (last == null || !t.isBefore(last)) {
                u.set("lastMessageAt", t).set("preview", preview(text));
            }
            earliest(u, d, "firstResponseAt", t);
            earliest(u, d, "firstMessageAt", t);
            latest(u, d, "lastAgentMessageAt", t);
            Instant waiting = instant(d, "awaitingSince");
            if (waiting != null && !waiting.isAfter(t)) {
                u.unset("awaitingSince");
            }
            return u;
        });
    }

    private static void earliest(Update u, Document d, String field, Instant t) {
        Instant current = instant(d, field);
        if (current == null || t.isBefore(current)) {
            u.set(field, t);
        }
    }

    private static void latest(Update u, Document d, String field, Instant t) {
        Instant current = instant(d, field);
        if (current == null || t.isAfter(current)) {
            u.set(field, t);
        }
    }

    /**
     * Replaces the text of a customer message, keeping the earlier text in its history.
     *
     * <p>Transcripts are append-only, so a message keeps its array index forever; updates address
     * it by index and repeat the identifying conditions in the query, which keeps them single
     * atomic conditional updates (and works on stores without positional-operator support).
     */
    public boolean editMessage(String conversationId, String messageKey, String newText, Instant editedAt) {
        return versionedPage(conversationId, "key", messageKey, d -> {
            int index = indexIn(d, "key", messageKey);
            if (index < 0) {
                return null;
            }
            Document m = messagesOf(d).get(index);
            Instant previousEdit = instant(m, "editedAt");
            if (editedAt != null && previousEdit != null && !editedAt.isAfter(previousEdit)) {
                return null; // this edit (or a later one) is applied already
            }
            String at = "messages." + index;
            return new Update().set(at + ".text", newText).set(at + ".editedAt", editedAt).push(at + ".history", m.getString("text"));
        });
    }

    /**
     * Replaces the text and the kind-specific fields of a message (a later event of the same phone
     * call completing its entry). Index-addressed like {@link #editMessage}; no history is kept.
     *
     * @return true if the message changed
     */
    public boolean updateMessageMeta(String conversationId, String messageKey, String text, Map<String, String> meta) {
        return versionedPage(conversationId, "key", messageKey, d -> {
            int index = indexIn(d, "key", messageKey);
            if (index < 0) {
                return null;
            }
            Document m = messagesOf(d).get(index);
            Object storedMeta = m.get("meta");
            if (java.util.Objects.equals(m.getString("text"), text) && storedMeta instanceof Map<?, ?> sm && sm.equals(meta)) {
                return null;
            }
            String at = "messages." + index;
            return new Update().set(at + ".text", text).set(at + ".meta", meta);
        });
    }

    /** The preview follows a changed entry when that entry is the conversation's newest. */
    public void refreshPreview(String conversationId, Instant at, String text) {
        versioned(Conversation.COLLECTION, conversationId, d -> {
            Instant last = instant(d, "lastMessageAt");
            return last != null && !last.isAfter(at) ? new Update().set("preview", preview(text)) : null;
        });
    }

    /**
     * Moves an outbound message's delivery status forward. A status never goes back (a late
     * "sent" does not undo "failed" or "read"), so reports applied twice or out of order agree.
     */
    public boolean updateDelivery(String conversationId, String messageId, String status, String externalId,
                                  String failureReason) {
        return updateDelivery(conversationId, messageId, status, externalId, failureReason, false);
    }

    /**
     * Marks a reply failed because it may never have reached the broker: its command's send failed or
     * timed out, or the process stopped before the ack ({@link #SENDS_IN_FLIGHT}). Unlike a channel's
     * failure this one is a guess, so a later report from the channel (sent, delivered, read or its own
     * failure) replaces it: a command that did reach the broker after all ends as what the channel says.
     */
    public boolean markNotQueued(String conversationId, String messageId, String reason) {
        return updateDelivery(conversationId, messageId, "failed", null, reason, true);
    }

    private boolean updateDelivery(String conversationId, String messageId, String status, String externalId,
                                   String failureReason, boolean notQueued) {
        // a guess never overrides what the channel reported
        List<String> earlier = notQueued ? List.of("pending") : switch (status) {
            case "sent" -> List.of("pending");
            case "failed" -> List.of("pending", "sent");
            case "delivered" -> List.of("pending", "sent");
            case "read" -> List.of("pending", "sent", "delivered");
            default -> List.of();
        };
        String[] mergedInto = {null};
        boolean[] firstPageRead = {false};
        boolean changed = versionedPage(conversationId, "messageId", messageId, d -> {
            if (conversationId.equals(d.get("_id"))) {
                mergedInto[0] = d.getString("mergedInto");
                firstPageRead[0] = true;
            }
            int index = indexIn(d, "messageId", messageId);
            if (index < 0) {
                return null;
            }
            Document message = messagesOf(d).get(index);
            boolean guessedFailure = "failed".equals(message.getString("deliveryStatus"))
                    && message.getBoolean(NOT_QUEUED, false);
            if (!earlier.contains(message.getString("deliveryStatus")) && !(guessedFailure && !notQueued && !earlier.isEmpty())) {
                return null;
            }
            String at = "messages." + index;
            Update update = new Update().set(at + ".deliveryStatus", status);
            if (externalId != null) {
                update.set(at + ".externalId", externalId);
            }
            if (failureReason != null) {
                update.set(at + ".failureReason", failureReason);
            } else if (guessedFailure) {
                update.unset(at + ".failureReason");
            }
            if (notQueued) {
                update.set(at + "." + NOT_QUEUED, true);
            } else if (guessedFailure) {
                update.unset(at + "." + NOT_QUEUED);
            }
            return update;
        });
        if (!firstPageRead[0]) {
            // the message is on a later page: the merge mark is on the first
            Document first = byId(Transcript.COLLECTION, conversationId);
            mergedInto[0] = first == null ? null : first.getString("mergedInto");
        }
        if (mergedInto[0] != null && !mergedInto[0].equals(conversationId)) {
            // a merged conversation's messages live on in its successor (ADR 0141): the report applies there too
            changed |= updateDelivery(mergedInto[0], messageId, status, externalId, failureReason, notQueued);
        }
        return changed;
    }

    /**
     * Replaces what normalization produced for a stored message (text, attachments, author, flags)
     * with a fresh result, for replays after a normalizer fix. Its id, time, edits and delivery
     * state stay. Returns true if anything changed.
     */
    public boolean refreshMessage(String conversationId, Message fresh) {
        Message stored = transcript(conversationId).flatMap(t -> t.messages().stream()
                .filter(m -> fresh.key().equals(m.key())).findFirst()).orElse(null);
        if (stored == null) {
            return false;
        }
        boolean same = java.util.Objects.equals(stored.text(), fresh.text()) && stored.attachments().equals(fresh.attachments())
                && java.util.Objects.equals(stored.author(), fresh.author()) && stored.automatic() == fresh.automatic()
                && java.util.Objects.equals(stored.replyToExternalId(), fresh.replyToExternalId());
        if (same || stored.editedAt() != null) {
            return false; // an edited message's text comes from the edit, not from the original event
        }
        Object attachments = template.getConverter().convertToMongoType(fresh.attachments());
        return versionedPage(conversationId, "key", fresh.key(), d -> {
            int i = indexIn(d, "key", fresh.key());
            if (i < 0 || instant(messagesOf(d).get(i), "editedAt") != null) {
                return null;
            }
            String at = "messages." + i;
            return new Update().set(at + ".text", fresh.text()).set(at + ".author", fresh.author())
                    .set(at + ".automatic", fresh.automatic()).set(at + ".replyToExternalId", fresh.replyToExternalId())
                    .set(at + ".attachments", attachments);
        });
    }

    public Optional<Message> message(String conversationId, String messageId) {
        return transcript(conversationId).flatMap(t -> t.messages().stream().filter(m -> messageId.equals(m.messageId())).findFirst());
    }

    /**
     * Stores attachment bytes under their ref, once (the ref is derived from the message key, so a
     * redelivered message writes the same document again, harmlessly).
     */
    public void saveFile(String ref, String name, String contentType, byte[] bytes) {
        saveFile(ref, name, contentType, bytes, null);
    }

    /** As above, recording the conversation the file arrived in, so that reading it can be limited to who sees that. */
    public void saveFile(String ref, String name, String contentType, byte[] bytes, String conversationId) {
        Update update = new Update()
                .set("name", name).set("contentType", contentType).set("size", bytes.length)
                .set("data", new org.bson.types.Binary(bytes));
        if (conversationId != null) {
            update.set("conversationId", conversationId);
        }
        mongo().upsert(Query.query(where("_id").is(ref)), update, FILES);
    }

    /** The conversation a stored file arrived in, when it was recorded. */
    public Optional<String> fileConversation(String ref) {
        Query query = Query.query(where("_id").is(ref));
        query.fields().include("conversationId");
        Document d = mongo().findOne(query, Document.class, FILES);
        return Optional.ofNullable(d).map(x -> x.getString("conversationId"));
    }

    /** An inline attachment's bytes with its name and type. */
    public record StoredFile(String ref, String name, String contentType, byte[] data) {
    }

    public Optional<StoredFile> file(String ref) {
        Document d = mongo().findById(ref, Document.class, FILES);
        if (d == null) {
            return Optional.empty();
        }
        Object data = d.get("data");
        byte[] bytes = data instanceof org.bson.types.Binary b ? b.getData() : data instanceof byte[] raw ? raw : new byte[0];
        return Optional.of(new StoredFile(ref, d.getString("name"), d.getString("contentType"), bytes));
    }

    /** Files agents uploaded to attach to replies: one document per file, written after all its chunks. */
    public static final String UPLOADS = "uploads";
    /** The bytes of uploaded files in chunks below MongoDB's 16 MB document limit, {@code _id = ref:index}. */
    public static final String UPLOAD_CHUNKS = "uploadChunks";
    /** Size of one stored chunk of an uploaded file. */
    static final int UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;

    /** An uploaded file without its bytes. */
    public record UploadInfo(String ref, String name, String contentType, long size, String uploadedBy, Instant uploadedAt) {
    }

    /**
     * Stores an agent's upload under a new ref: the chunks first, then the file document, so a
     * file is visible only once all of its bytes are stored.
     */
    public UploadInfo saveUpload(String ref, String name, String contentType, byte[] bytes, String uploadedBy, Instant at) {
        int chunks = 0;
        for (int offset = 0; offset < bytes.length || chunks == 0; offset += UPLOAD_CHUNK_BYTES) {
            byte[] part = java.util.Arrays.copyOfRange(bytes, offset, Math.min(bytes.length, offset + UPLOAD_CHUNK_BYTES));
            mongo().save(new Document("_id", ref + ":" + chunks).append("ref", ref).append("n", chunks)
                    .append("data", new org.bson.types.Binary(part)), UPLOAD_CHUNKS);
            chunks++;
        }
        mongo().save(new Document("_id", ref).append("name", name).append("contentType", contentType)
                .append("size", (long) bytes.length).append("chunks", chunks).append("uploadedBy", uploadedBy)
                .append("uploadedAt", java.util.Date.from(at)), UPLOADS);
        return new UploadInfo(ref, name, contentType, bytes.length, uploadedBy, at);
    }

    /** An uploaded file's name, type and size, without reading its bytes. */
    public Optional<UploadInfo> uploadInfo(String ref) {
        Document d = mongo().findById(ref, Document.class, UPLOADS);
        if (d == null) {
            return Optional.empty();
        }
        return Optional.of(new UploadInfo(ref, d.getString("name"), d.getString("contentType"),
                ((Number) d.get("size")).longValue(), d.getString("uploadedBy"), instant(d, "uploadedAt")));
    }

    /** An uploaded file with its bytes. */
    public Optional<StoredFile> upload(String ref) {
        Document d = mongo().findById(ref, Document.class, UPLOADS);
        if (d == null) {
            return Optional.empty();
        }
        int chunks = ((Number) d.get("chunks")).intValue();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) ((Number) d.get("size")).longValue());
        for (int i = 0; i < chunks; i++) {
            Document chunk = mongo().findById(ref + ":" + i, Document.class, UPLOAD_CHUNKS);
            if (chunk == null) {
                return Optional.empty();
            }
            Object data = chunk.get("data");
            byte[] bytes = data instanceof org.bson.types.Binary b ? b.getData() : data instanceof byte[] raw ? raw : new byte[0];
            out.writeBytes(bytes);
        }
        return Optional.of(new StoredFile(ref, d.getString("name"), d.getString("contentType"), out.toByteArray()));
    }

    // ------------------------------------------------------------------ tags and conversation merges

    /**
     * Changes a conversation's tags as {@code change} decides from the current ones, atomically
     * (version-checked, so concurrent edits are not lost). {@code change} may throw to refuse.
     *
     * @return the tags as stored after this call, empty if the conversation is missing
     */
    public Optional<List<String>> updateTags(String conversationId, java.util.function.UnaryOperator<List<String>> change, Instant at) {
        return updateTagsOf(Conversation.COLLECTION, conversationId, change, at);
    }

    /**
     * Changes a contact's tags as {@code change} decides from the current ones, atomically (version-checked).
     *
     * @return the tags as stored after this call, empty if the contact is missing
     */
    public Optional<List<String>> updateContactTags(String contactId, java.util.function.UnaryOperator<List<String>> change,
                                                    Instant at) {
        return updateTagsOf(Contact.COLLECTION, contactId, change, at);
    }

    @SuppressWarnings("unchecked")
    private Optional<List<String>> updateTagsOf(String collection, String id, java.util.function.UnaryOperator<List<String>> change,
                                                Instant at) {
        List<List<String>> result = new java.util.ArrayList<>(1);
        versioned(collection, id, d -> {
            Object raw = d.get("tags");
            List<String> current = raw instanceof List<?> l ? List.copyOf((List<String>) l) : List.of();
            List<String> next = List.copyOf(change.apply(current));
            result.clear();
            result.add(next);
            return next.equals(current) ? null : new Update().set("tags", next).set("updatedAt", at);
        });
        return result.isEmpty() ? Optional.empty() : Optional.of(result.get(0));
    }

    /**
     * Replies stored as pending whose command the broker has not acknowledged yet, one document per reply
     * ({@code _id} the message id): conversationId, at. The API writes one before the reply and removes it
     * once the command is acknowledged or the reply marked failed; one left behind by a stopped process is
     * how its pending reply gets resolved instead of staying pending for ever.
     */
    public static final String SENDS_IN_FLIGHT = "sendsInFlight";

    /** A message field: its failure is a guess of ours (see {@link #markNotQueued}), not the channel's report. */
    static final String NOT_QUEUED = "notQueued";

    /** A reply between being stored as pending and its command's ack. */
    public record SendInFlight(String messageId, String conversationId, Instant at) { }

    public void sendStarted(String conversationId, String messageId, Instant at) {
        mongo().save(new Document("_id", messageId).append("conversationId", conversationId).append("at", java.util.Date.from(at)), SENDS_IN_FLIGHT);
    }

    public void sendSettled(String messageId) {
        mongo().remove(Query.query(where("_id").is(messageId)), SENDS_IN_FLIGHT);
    }

    /** Sends started before {@code before}, oldest first: those still here were cut off. */
    public List<SendInFlight> sendsStartedBefore(Instant before, int limit) {
        return mongo().find(Query.query(where("at").lt(before)).with(org.springframework.data.domain.Sort.by("at")).limit(limit), Document.class, SENDS_IN_FLIGHT)
                .stream().map(d -> new SendInFlight(d.getString("_id"), d.getString("conversationId"), instant(d, "at"))).toList();
    }

    /** Conversation merges, one document per merged conversation ({@code _id}): into, by, at, completedAt. */
    public static final String CONVERSATION_MERGES = "conversationMerges";

    /** A recorded merge of conversation {@code source} into {@code into}. */
    public record ConversationMerge(String source, String into, String by, Instant at, Instant completedAt, int messagesCopied) {
    }

    /**
     * Merges conversation {@code sourceId} into {@code targetId} (same contact): the source's
     * messages join the target's transcript in time order (no duplicates, by message key), its
     * thread keys and message keys point at the target from then on (the router files later
     * messages of those threads there, and receipts find them), and the source becomes
     * {@code merged} with {@code mergedInto}. Every step is a single-document atomic update, and
     * each is idempotent, so a merge interrupted anywhere completes when run again (ADR 0141).
     *
     * @throws IllegalArgumentException when the pair cannot be merged (the reason is the message)
     */
    public ConversationMerge mergeConversation(String sourceId, String targetId, String by, Instant at) {
        return mergeConversation(sourceId, targetId, by, at, step -> { });
    }

    /** As above; {@code beforeStep} runs before each step (1..8), for tests that simulate a crash there. */
    ConversationMerge mergeConversation(String sourceId, String targetId, String by, Instant at,
                                        java.util.function.IntConsumer beforeStep) {
        if (sourceId.equals(targetId)) {
            throw new IllegalArgumentException("a conversation cannot be merged into itself");
        }
        Conversation source = find(sourceId).orElseThrow(() -> new IllegalArgumentException("no conversation " + sourceId));
        Conversation target = find(targetId).orElseThrow(() -> new IllegalArgumentException("no conversation " + targetId));
        if (target.mergedInto() != null) {
            throw new IllegalArgumentException("conversation " + targetId + " was itself merged into " + target.mergedInto());
        }
        if (source.mergedInto() != null && !source.mergedInto().equals(targetId)) {
            throw new IllegalArgumentException("conversation " + sourceId + " was already merged into " + source.mergedInto());
        }
        if (source.contactId() == null || !source.contactId().equals(target.contactId())) {
            throw new IllegalArgumentException("only conversations of the same contact can be merged");
        }
        // 1. the record (first writer wins): a retry keeps the first merge's who and when
        beforeStep.accept(1);
        Document record;
        try {
            record = new Document("_id", sourceId).append("into", targetId).append("by", by).append("at", at);
            mongo().insert(record, CONVERSATION_MERGES);
        } catch (DuplicateKeyException recorded) {
            record = mongo().findById(sourceId, Document.class, CONVERSATION_MERGES);
            if (record == null || !targetId.equals(record.getString("into"))) {
                throw new IllegalArgumentException("conversation " + sourceId + " was already merged into "
                        + (record == null ? "another conversation" : record.getString("into")));
            }
        }
        String mergedBy = record.getString("by");
        Instant mergedAt = instant(record, "at") == null ? at : instant(record, "at");
        // 2. the source's transcript names its successor, so late delivery reports for it reach the copies too
        beforeStep.accept(2);
        mongo().updateFirst(Query.query(where("_id").is(sourceId)), new Update().set("mergedInto", targetId), Transcript.COLLECTION);
        // 3. thread keys (chats, email Message-IDs) point at the target: the router files later messages there
        beforeStep.accept(3);
        mongo().updateMulti(Query.query(where("conversationId").is(sourceId)), new Update().set("conversationId", targetId),
                THREAD_KEYS);
        // 4. the messages, in one version-checked write of the target's transcript
        beforeStep.accept(4);
        int copied = copyMessages(sourceId, targetId, target.channel(), mergedBy, mergedAt);
        // 5. message keys (dedup, edits, receipts) point at the target
        beforeStep.accept(5);
        mongo().updateMulti(Query.query(where("conversationId").is(sourceId)), new Update().set("conversationId", targetId),
                MESSAGE_KEYS);
        // a message filed into the source while steps 3-5 ran is picked up here (a no-op otherwise)
        copied += copyMessages(sourceId, targetId, target.channel(), mergedBy, mergedAt);
        // 6. the target's times, preview, waiting clock and tags take in the source's
        beforeStep.accept(6);
        Document src = mongo().findById(sourceId, Document.class, Conversation.COLLECTION);
        versioned(Conversation.COLLECTION, targetId, d -> absorb(d, src, mergedAt));
        // 7. the source is closed as merged
        beforeStep.accept(7);
        versioned(Conversation.COLLECTION, sourceId, d -> targetId.equals(d.getString("mergedInto")) ? null
                : new Update().set("status", Conversation.MERGED).set("mergedInto", targetId).set("mergedBy", mergedBy)
                .set("mergedAt", mergedAt).set("resolvedAt", mergedAt).set("updatedAt", mergedAt).unset("snoozedUntil")
                .unset("awaitingSince"));
        // 8. done
        beforeStep.accept(8);
        Instant completed = instant(record, "completedAt");
        if (completed == null) {
            completed = at;
            mongo().updateFirst(Query.query(where("_id").is(sourceId).and("completedAt").exists(false)),
                    new Update().set("completedAt", completed), CONVERSATION_MERGES);
        }
        return new ConversationMerge(sourceId, targetId, mergedBy, mergedAt, completed, copied);
    }

    /** The recorded merge of a conversation, if it was merged (or a merge of it began). */
    public Optional<ConversationMerge> conversationMerge(String sourceId) {
        Document d = mongo().findById(sourceId, Document.class, CONVERSATION_MERGES);
        return Optional.ofNullable(d).map(x -> new ConversationMerge(sourceId, x.getString("into"), x.getString("by"),
                instant(x, "at"), instant(x, "completedAt"), 0));
    }

    /**
     * Adds the source's messages missing from the target (by key) and a merge note. A target of one page
     * with room for them gets them in time order, in one version-checked write; a larger one gets them
     * appended in time order, each as a customer message is (the API shows a transcript in time order).
     */
    private int copyMessages(String sourceId, String targetId, String channel, String by, Instant at) {
        List<Document> incoming = new java.util.ArrayList<>();
        pages(sourceId, true).forEach(page -> incoming.addAll(messagesOf(page)));
        String noteKey = "merge:" + sourceId;
        String noteId = UUID.nameUUIDFromBytes(noteKey.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
        Message note = new Message(noteId, noteKey, Message.OUTBOUND, "note", channel, null, at, by,
                "merged conversation " + sourceId + " into this one", List.of(), null, null, null, null, null, false,
                Map.of("event", "merged", "from", sourceId));
        incoming.add((Document) template.getConverter().convertToMongoType(note));
        for (int attempt = 0; attempt < 100; attempt++) {
            List<Document> pages = pages(targetId, true);
            java.util.Set<Object> keys = new java.util.HashSet<>();
            pages.forEach(page -> messagesOf(page).forEach(m -> keys.add(m.get("key"))));
            List<Document> missing = byTime(incoming.stream().filter(m -> !keys.contains(m.get("key"))).toList());
            if (missing.isEmpty()) {
                return 0;
            }
            List<Document> first = pages.isEmpty() ? List.of() : messagesOf(pages.get(0));
            if (pages.size() > 1 || (!pages.isEmpty() && pages.get(0).getBoolean(SEALED, false)) || !fits(first, missing)) {
                int added = 0;
                for (Document m : missing) {
                    // the stored document as it is: it may carry fields a Message does not (notQueued)
                    if (appendNow(targetId, m) && !noteKey.equals(m.get("key"))) {
                        added++;
                    }
                }
                return added;
            }
            int added = (int) missing.stream().filter(m -> !noteKey.equals(m.get("key"))).count();
            if (pages.isEmpty()) {
                try {
                    mongo().insert(new Document("_id", targetId).append(VERSION, 1L).append("messages", missing), Transcript.COLLECTION);
                    return added;
                } catch (DuplicateKeyException createdMeanwhile) {
                    continue;
                }
            }
            Object v = pages.get(0).get(VERSION);
            if (!(v instanceof Number)) {
                mongo().updateFirst(Query.query(where("_id").is(targetId)), new Update().max(VERSION, 0L), Transcript.COLLECTION);
                continue;
            }
            List<Document> all = new java.util.ArrayList<>(first);
            all.addAll(missing);
            // every index-addressed write re-finds its message under the version check, so reordering is safe
            if (mongo().updateFirst(Query.query(where("_id").is(targetId).and(VERSION).is(((Number) v).longValue())),
                    new Update().set("messages", byTime(all)).inc(VERSION, 1L), Transcript.COLLECTION).getModifiedCount() > 0) {
                forget(Transcript.COLLECTION, targetId);
                return added;
            }
        }
        throw new IllegalStateException("transcript " + targetId + " kept changing under 100 attempts to merge into it");
    }

    /** Whether one page holds these messages within both bounds. */
    private boolean fits(List<Document> page, List<Document> more) {
        if (page.size() + more.size() > pageMessages) {
            return false;
        }
        long bytes = 0;
        for (Document m : page) {
            bytes += estimatedBytes(m);
        }
        for (Document m : more) {
            bytes += estimatedBytes(m);
        }
        return bytes <= pageBytes;
    }

    private static List<Document> byTime(List<Document> messages) {
        List<Document> sorted = new java.util.ArrayList<>(messages);
        sorted.sort(java.util.Comparator.comparing((Document m) -> instant(m, "sentAt"),
                java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder())));
        return sorted;
    }

    /** The target's fields after taking in the source: earliest starts, latest ends, the customer's wait, tags. */
    @SuppressWarnings("unchecked")
    private static Update absorb(Document target, Document source, Instant at) {
        if (source == null) {
            return null;
        }
        Update u = new Update();
        for (String f : List.of("firstMessageAt", "firstCustomerMessageAt")) {
            Instant s = instant(source, f);
            if (s != null) {
                earliest(u, target, f, s);
            }
        }
        for (String f : List.of("lastCustomerMessageAt", "lastAgentMessageAt")) {
            Instant s = instant(source, f);
            if (s != null) {
                latest(u, target, f, s);
            }
        }
        Instant last = instant(source, "lastMessageAt");
        Instant targetLast = instant(target, "lastMessageAt");
        if (last != null && (targetLast == null || last.isAfter(targetLast))) {
            u.set("lastMessageAt", last).set("preview", source.getString("preview"));
        }
        Instant waiting = instant(source, "awaitingSince");
        Instant lastAgent = instant(target, "lastAgentMessageAt");
        if (waiting != null && instant(target, "awaitingSince") == null && (lastAgent == null || lastAgent.isBefore(waiting))
                && !Conversation.MERGED.equals(source.getString("status"))) {
            u.set("awaitingSince", waiting);
        }
        Object st = source.get("tags");
        Object tt = target.get("tags");
        if (st instanceof List<?> sl && !sl.isEmpty()) {
            java.util.LinkedHashSet<String> union = new java.util.LinkedHashSet<>(tt instanceof List<?> tl ? (List<String>) tl : List.of());
            int before = union.size();
            for (Object tag : sl) {
                if (union.size() < 20) {
                    union.add(String.valueOf(tag));
                }
            }
            if (union.size() != before) {
                u.set("tags", List.copyOf(union));
            }
        }
        if (u.getUpdateObject().isEmpty()) {
            return null;
        }
        return u.set("updatedAt", at);
    }

    /**
     * {@code current} with {@code text} appended (whitespace flattened), or null when text adds nothing.
     * Over {@link #SEARCH_MAX} characters the middle goes: the first {@link #SEARCH_HEAD} characters and
     * the newest text stay, each cut at a word boundary, so a long chat keeps its opening and its latest words.
     */
    static String searchText(String current, String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String add = text.replaceAll("\\s+", " ").trim();
        String joined = current == null || current.isEmpty() ? add : current + "\n" + add;
        if (joined.length() <= SEARCH_MAX) {
            return joined;
        }
        int marker = joined.indexOf(" … ");
        String head;
        if (marker >= 0 && marker <= SEARCH_HEAD) {
            head = joined.substring(0, marker); // cut before: the head stays the same head, overflow after overflow
        } else {
            head = joined.substring(0, SEARCH_HEAD);
            int headEnd = head.lastIndexOf(' ');
            head = headEnd > 0 ? head.substring(0, headEnd) : head;
        }
        String tail = joined.substring(joined.length() - (SEARCH_MAX - head.length() - 3));
        int tailStart = tail.indexOf(' ');
        tail = tailStart >= 0 && tailStart < tail.length() - 1 ? tail.substring(tailStart + 1) : tail;
        return head + " … " + tail;
    }

    static String preview(String text) {
        if (text == null) {
            return null;
        }
        String flat = text.replaceAll("\\s+", " ").trim();
        return flat.length() <= 140 ? flat : flat.substring(0, 139) + "…";
    }
}
