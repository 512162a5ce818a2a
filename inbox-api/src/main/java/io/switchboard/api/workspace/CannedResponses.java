package io.switchboard.api.workspace;

import io.switchboard.api.ApiException;
import io.switchboard.store.StoreDurability;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.mapping.Document;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Canned responses: ready answers agents insert and edit before sending. Seeded once (by fixed id,
 * so an admin's edits and deletions of a seeded answer stay) with answers to the support FAQ's
 * frequent requests, in Russian and English. Admins change them under /api/admin/canned.
 */
@RestController
class CannedResponses implements ApplicationRunner {

    static final String COLLECTION = "cannedResponses";

    @Document(COLLECTION)
    record Canned(@Id String id, String topic, String lang, String title, String text, List<String> keywords,
                  boolean seeded) {
    }

    private final MongoTemplate mongo;
    private final StoreDurability durability;

    CannedResponses(MongoTemplate mongo, ObjectProvider<StoreDurability> durability) {
        this.mongo = mongo;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
    }

    @Override
    public void run(ApplicationArguments args) {
        if (mongo.exists(Query.query(where("_id").is("seeded")), "cannedSeed")) {
            return;
        }
        for (Canned c : CannedSeed.ANSWERS) {
            mongo.upsert(Query.query(where("_id").is(c.id())), new Update().setOnInsert("topic", c.topic())
                    .setOnInsert("lang", c.lang()).setOnInsert("title", c.title()).setOnInsert("text", c.text())
                    .setOnInsert("keywords", c.keywords()).setOnInsert("seeded", true), Canned.class);
        }
        mongo.upsert(Query.query(where("_id").is("seeded")), new Update().set("version", 1), "cannedSeed");
        durability.commit();
    }

    List<Canned> all() {
        return mongo.findAll(Canned.class).stream()
                .sorted(Comparator.comparing(Canned::topic, Comparator.nullsLast(Comparator.naturalOrder()))
                        .thenComparing(Canned::lang, Comparator.nullsLast(Comparator.naturalOrder())))
                .toList();
    }

    @GetMapping("/api/canned")
    List<Canned> list(@RequestParam(required = false) String lang) {
        return all().stream().filter(c -> lang == null || lang.isBlank() || lang.equals(c.lang())).toList();
    }

    record CannedChange(String topic, String lang, String title, String text, List<String> keywords) {
    }

    @PutMapping("/api/admin/canned/{id}")
    Canned put(@PathVariable String id, @RequestBody CannedChange body) {
        if (body == null || body.title() == null || body.title().isBlank() || body.text() == null || body.text().isBlank()) {
            throw ApiException.badRequest("title and text are required");
        }
        if (body.lang() == null || !List.of("ru", "en").contains(body.lang())) {
            throw ApiException.badRequest("lang must be ru or en");
        }
        if (!id.matches("[A-Za-z0-9_.:-]{1,80}")) {
            throw ApiException.badRequest("id must be 1-80 letters, digits or _.:-");
        }
        Canned c = new Canned(id, body.topic() == null ? id : body.topic(), body.lang(), body.title(), body.text(),
                body.keywords() == null ? List.of() : List.copyOf(body.keywords()), false);
        mongo.save(c);
        durability.commit();
        // canned answers are public text: the new values go in the audit (the text shortened)
        Map<String, Object> changes = new java.util.LinkedHashMap<>();
        changes.put("topic", c.topic());
        changes.put("lang", c.lang());
        changes.put("title", c.title());
        changes.put("text", c.text().length() > 200 ? c.text().substring(0, 199) + "…" : c.text());
        changes.put("keywords", c.keywords());
        io.switchboard.api.security.AuditLog.describe(changes);
        return c;
    }

    @DeleteMapping("/api/admin/canned/{id}")
    ResponseEntity<Void> delete(@PathVariable String id) {
        if (mongo.remove(Query.query(where("_id").is(id)), Canned.class).getDeletedCount() == 0) {
            throw ApiException.notFound("no canned response " + id);
        }
        durability.commit();
        return ResponseEntity.noContent().build();
    }
}
