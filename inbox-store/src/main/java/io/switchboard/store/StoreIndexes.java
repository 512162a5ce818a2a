package io.switchboard.store;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.stereotype.Component;

/**
 * Secondary indexes for the queue's filters and order. Uniqueness, which correctness depends
 * on, comes from {@code _id} keys only (identity, thread and message keys), because the embedded
 * store honours unique {@code _id}s but ignores secondary indexes.
 */
@Component
class StoreIndexes {

    private final MongoTemplate mongo;

    StoreIndexes(MongoTemplate mongo) {
        this.mongo = mongo;
    }

    @EventListener(ApplicationReadyEvent.class)
    void ensure() {
        var conversations = mongo.indexOps(Conversation.COLLECTION);
        conversations.createIndex(new Index().on("lastMessageAt", Sort.Direction.DESC).on("_id", Sort.Direction.DESC));
        conversations.createIndex(new Index().on("status", Sort.Direction.ASC).on("lastMessageAt", Sort.Direction.DESC));
        conversations.createIndex(new Index().on("contactId", Sort.Direction.ASC));
        conversations.createIndex(new Index().on("tags", Sort.Direction.ASC)); // the queue's tag filter (ADR 0141)
    }
}
