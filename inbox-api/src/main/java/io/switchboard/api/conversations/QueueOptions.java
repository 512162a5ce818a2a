package io.switchboard.api.conversations;

import io.switchboard.api.security.Visibility;
import io.switchboard.store.Conversation;
import org.bson.Document;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/** What the queue's filter controls offer: the configured teams, and the tags in use with their counts. */
@RestController
class QueueOptions {

    private final MongoTemplate mongo;
    private final Visibility visibility;

    QueueOptions(MongoTemplate mongo, Visibility visibility) {
        this.mongo = mongo;
        this.visibility = visibility;
    }

    record TeamView(String name, List<String> channels, List<String> accounts) {
    }

    @GetMapping("/api/teams")
    List<TeamView> teams() {
        return visibility.teams().values().stream().map(t -> new TeamView(t.name(), t.channels(), t.accounts())).toList();
    }

    record TagCount(String tag, long count) {
    }

    /** Tags of the conversations the caller sees that are not resolved or merged, most used first. */
    @GetMapping("/api/tags")
    List<TagCount> tags(Authentication user) {
        Criteria c = where("tags").exists(true).and("status").in(Conversation.OPEN, Conversation.PENDING, Conversation.SNOOZED);
        Criteria limited = visibility.limit(user).map(l -> new Criteria().andOperator(c, l)).orElse(c);
        Query q = Query.query(limited);
        q.fields().include("tags");
        Map<String, Long> counts = new TreeMap<>();
        for (Document d : mongo.find(q, Document.class, Conversation.COLLECTION)) {
            if (d.get("tags") instanceof List<?> tags) {
                tags.forEach(t -> counts.merge(String.valueOf(t), 1L, Long::sum));
            }
        }
        return counts.entrySet().stream().map(e -> new TagCount(e.getKey(), e.getValue()))
                .sorted((a, b) -> Long.compare(b.count(), a.count())).toList();
    }
}
