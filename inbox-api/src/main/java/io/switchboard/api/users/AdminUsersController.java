package io.switchboard.api.users;

import io.switchboard.api.ApiException;
import io.switchboard.api.security.AuditLog;
import io.switchboard.store.StoreDurability;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * User administration (role admin): create, list, change roles, disable and enable, reset a password.
 * Passwords and their hashes never leave: not in answers, not in the audit (which records that a
 * password was set, not what to).
 */
@RestController
@RequestMapping("/api/admin/users")
class AdminUsersController {

    private final MongoTemplate mongo;
    private final PasswordEncoder encoder;
    private final StoreDurability durability;
    private final Clock clock;

    AdminUsersController(MongoTemplate mongo, PasswordEncoder encoder, ObjectProvider<StoreDurability> durability,
                         ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.encoder = encoder;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    record NewUser(@NotBlank @Pattern(regexp = "[A-Za-z0-9_.@-]{2,64}") String username,
                   @NotBlank @Size(min = 8, max = 200) String password,
                   @NotEmpty List<@Pattern(regexp = "agent|operator|admin") String> roles) {
    }

    /** What an admin sees of a user. */
    record UserView(String username, List<String> roles, boolean enabled, Instant createdAt, Instant updatedAt) {
        static UserView of(UserAccount a) {
            return new UserView(a.username(), a.roles(), a.enabled(), a.createdAt(), a.updatedAt());
        }
    }

    @PostMapping
    ResponseEntity<Map<String, Object>> create(@Valid @RequestBody NewUser user, HttpServletRequest request) {
        var now = clock.instant();
        try {
            mongo.insert(new UserAccount(user.username(), encoder.encode(user.password()), List.copyOf(user.roles()), true, now, now));
        } catch (DuplicateKeyException e) {
            return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", "user already exists"));
        }
        durability.commit();
        AuditLog.describe(request, changes("username", user.username(), "roles", List.copyOf(user.roles()), "enabled", true,
                "password", AuditLog.SECRET_SET));
        return ResponseEntity.status(HttpStatus.CREATED).body(Map.of("username", user.username(), "roles", user.roles()));
    }

    @GetMapping
    List<UserView> list() {
        return mongo.find(new Query().with(Sort.by("_id")), UserAccount.class).stream().map(UserView::of).toList();
    }

    /**
     * {@code {"roles":[..]}} and/or {@code {"enabled":false}}. An admin cannot take away their own admin
     * role or disable themselves: the desk would lose its last way in by a slip of the mouse.
     */
    @PatchMapping("/{username}")
    UserView change(@PathVariable String username, @RequestBody Map<String, Object> body, Authentication me,
                    HttpServletRequest request) {
        if (body == null || body.isEmpty()) {
            throw ApiException.badRequest("nothing to change: give roles and/or enabled");
        }
        for (String key : body.keySet()) {
            if (!List.of("roles", "enabled").contains(key)) {
                throw ApiException.badRequest("unknown field '" + key + "': only roles and enabled can change here"
                        + (key.equals("password") ? " (passwords: PUT /api/admin/users/{username}/password)" : ""));
            }
        }
        UserAccount account = mongo.findById(username, UserAccount.class);
        if (account == null) {
            throw ApiException.notFound("no user " + username);
        }
        Update update = new Update();
        Map<String, Object> changed = new LinkedHashMap<>();
        if (body.containsKey("roles")) {
            if (!(body.get("roles") instanceof List<?> raw) || raw.isEmpty()
                    || !raw.stream().allMatch(r -> r instanceof String s && UserAccount.ROLES.contains(s))) {
                throw ApiException.badRequest("roles must be a non-empty list of " + UserAccount.ROLES);
            }
            List<String> roles = raw.stream().map(String::valueOf).distinct().toList();
            if (username.equals(me.getName()) && !roles.contains("admin")) {
                throw ApiException.badRequest("you cannot take away your own admin role");
            }
            update.set("roles", roles);
            changed.put("roles", roles);
        }
        if (body.containsKey("enabled")) {
            if (!(body.get("enabled") instanceof Boolean enabled)) {
                throw ApiException.badRequest("enabled must be true or false");
            }
            if (username.equals(me.getName()) && !enabled) {
                throw ApiException.badRequest("you cannot disable yourself");
            }
            update.set("enabled", enabled);
            changed.put("enabled", enabled);
        }
        mongo.updateFirst(Query.query(where("_id").is(username)), update.set("updatedAt", clock.instant()), UserAccount.class);
        durability.commit();
        AuditLog.describe(request, changed);
        return UserView.of(mongo.findById(username, UserAccount.class));
    }

    record NewPassword(@NotBlank @Size(min = 8, max = 200) String password) {
    }

    /** Sets a new password; the old one stops working at once (the sign-in cache checks the stored hash). */
    @PutMapping("/{username}/password")
    ResponseEntity<Void> resetPassword(@PathVariable String username, @Valid @RequestBody NewPassword body,
                                       HttpServletRequest request) {
        var result = mongo.updateFirst(Query.query(where("_id").is(username)),
                new Update().set("passwordHash", encoder.encode(body.password())).set("updatedAt", clock.instant()), UserAccount.class);
        if (result.getMatchedCount() == 0) {
            throw ApiException.notFound("no user " + username);
        }
        durability.commit();
        AuditLog.describe(request, changes("password", AuditLog.SECRET_SET));
        return ResponseEntity.noContent().build();
    }

    private static Map<String, Object> changes(Object... pairs) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put((String) pairs[i], pairs[i + 1]);
        }
        return out;
    }
}
