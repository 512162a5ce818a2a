package io.switchboard.api.workspace;

import io.switchboard.contract.ContractJson;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Collision hints: who is viewing or typing in a conversation. Browsers send a heartbeat while a
 * conversation is open (every 10 s) and while the agent types; an entry lives a little longer
 * than its heartbeat and is then dropped. Changes go to every live stream as {@code presence}
 * events. Kept in this instance's memory: a hint, not a lock (with several API instances each
 * sees the agents connected to it).
 */
@Component
class Presence {

    static final Duration VIEWING_TTL = Duration.ofSeconds(30);
    static final Duration TYPING_TTL = Duration.ofSeconds(6);

    record Entry(String user, String state, Instant until) {
    }

    record Snapshot(String conversationId, List<Map<String, String>> users) {
    }

    private final Map<String, Map<String, Entry>> byConversation = new ConcurrentHashMap<>();
    private final LiveHub hub;
    private final Clock clock;

    Presence(LiveHub hub, ObjectProvider<Clock> clock) {
        this.hub = hub;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        hub.schedule(this::expire, Duration.ofSeconds(2));
    }

    /** @param state viewing, typing or left */
    void heartbeat(String conversationId, String user, String state) {
        Instant now = clock.instant();
        Map<String, Entry> users = byConversation.computeIfAbsent(conversationId, k -> new ConcurrentHashMap<>());
        Entry before;
        if ("left".equals(state)) {
            before = users.remove(user);
        } else {
            Duration ttl = "typing".equals(state) ? TYPING_TTL : VIEWING_TTL;
            before = users.put(user, new Entry(user, state, now.plus(ttl)));
        }
        if (before == null || !before.state().equals(state)) {
            announce(conversationId);
        }
    }

    Snapshot snapshot(String conversationId) {
        List<Map<String, String>> users = new ArrayList<>();
        byConversation.getOrDefault(conversationId, Map.of()).values().stream()
                .sorted(Comparator.comparing(Entry::user))
                .forEach(e -> users.add(Map.of("user", e.user(), "state", e.state())));
        return new Snapshot(conversationId, users);
    }

    void expire() {
        Instant now = clock.instant();
        byConversation.forEach((conversationId, users) -> {
            boolean changed = false;
            for (Entry e : List.copyOf(users.values())) {
                if (now.isAfter(e.until())) {
                    // typing decays to viewing; viewing ends
                    if ("typing".equals(e.state())) {
                        users.put(e.user(), new Entry(e.user(), "viewing", e.until().plus(VIEWING_TTL.minus(TYPING_TTL))));
                    } else {
                        users.remove(e.user());
                    }
                    changed = true;
                }
            }
            if (users.isEmpty()) {
                byConversation.remove(conversationId, users);
            }
            if (changed) {
                announce(conversationId);
            }
        });
    }

    private void announce(String conversationId) {
        hub.broadcast("presence", ContractJson.toJson(snapshot(conversationId)), conversationId);
    }
}
