package io.switchboard.api.security;

import io.switchboard.api.ApiException;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * API tokens for scripts: {@code Authorization: Bearer sbt_...}. A user creates tokens for
 * themselves; the token is shown once and stored only as its SHA-256 (a token is 32 random
 * bytes, so a fast hash is enough, unlike passwords). A token acts with its owner's current roles.
 */
@RestController
public class ApiTokens {

    public static final String COLLECTION = "apiTokens";
    static final String PREFIX = "sbt_";

    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public ApiTokens(MongoTemplate mongo, ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    record NewToken(String name) {
    }

    @PostMapping("/api/tokens")
    ResponseEntity<Map<String, Object>> create(@RequestBody(required = false) NewToken body, Authentication user) {
        String name = body == null || body.name() == null || body.name().isBlank() ? "script" : body.name().trim();
        if (name.length() > 100) {
            throw ApiException.badRequest("name is longer than 100 characters");
        }
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String id = UUID.randomUUID().toString();
        Instant now = clock.instant();
        mongo.insert(new Document("_id", sha256(token)).append("tokenId", id).append("username", user.getName())
                .append("name", name).append("createdAt", now), COLLECTION);
        durability.commit();
        return ResponseEntity.status(HttpStatus.CREATED).body(Map.of("id", id, "name", name, "token", token, "createdAt", now));
    }

    @GetMapping("/api/tokens")
    List<Map<String, Object>> list(Authentication user) {
        return mongo.find(Query.query(where("username").is(user.getName())), Document.class, COLLECTION).stream()
                .map(d -> Map.<String, Object>of("id", d.getString("tokenId"), "name", d.getString("name"),
                        "createdAt", d.getDate("createdAt").toInstant()))
                .toList();
    }

    @DeleteMapping("/api/tokens/{id}")
    ResponseEntity<Void> revoke(@PathVariable String id, Authentication user) {
        long removed = mongo.remove(Query.query(where("tokenId").is(id).and("username").is(user.getName())), COLLECTION)
                .getDeletedCount();
        durability.commit();
        if (removed == 0) {
            throw ApiException.notFound("no token " + id);
        }
        return ResponseEntity.noContent().build();
    }

    /** The owner of a presented token, if it is one of ours. */
    public Optional<String> owner(String presented) {
        if (presented == null || !presented.startsWith(PREFIX) || presented.length() > 200) {
            return Optional.empty();
        }
        // Looked up by its hash: the comparison happens on a digest, so timing reveals nothing of the token.
        Document d = mongo.findById(sha256(presented), Document.class, COLLECTION);
        return Optional.ofNullable(d).map(x -> x.getString("username"));
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
