package io.switchboard.api.conversations;

import io.switchboard.api.ApiException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Agents' labels on conversations and contacts: trimmed, lower-case, at most 40 characters each and 20 per
 * conversation or contact. Public for the contacts' API, which labels people the same way.
 */
public final class Tags {

    static final int MAX_TAGS = 20;
    static final int MAX_LENGTH = 40;

    /** One tag as stored, or a 400 with the reason. */
    public static String normalize(Object raw) {
        if (!(raw instanceof String s)) {
            throw ApiException.badRequest("a tag must be a string");
        }
        String tag = s.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
        if (tag.isEmpty()) {
            throw ApiException.badRequest("a tag must not be empty");
        }
        if (tag.length() > MAX_LENGTH) {
            throw ApiException.badRequest("tag '" + tag.substring(0, 20) + "…' is longer than " + MAX_LENGTH + " characters");
        }
        if (tag.contains(",") || tag.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("a tag must not contain commas or control characters");
        }
        return tag;
    }

    /** A JSON list of tags as stored (normalized, duplicates dropped), or a 400. */
    public static List<String> normalizeAll(Object raw, String field) {
        if (!(raw instanceof Collection<?> list)) {
            throw ApiException.badRequest(field + " must be a list of strings");
        }
        Set<String> out = new LinkedHashSet<>();
        for (Object o : list) {
            out.add(normalize(o));
        }
        return new ArrayList<>(out);
    }

    /** The tags after a change: a replacement, then additions, then removals; more than 20 is refused. */
    static List<String> apply(List<String> current, List<String> replace, List<String> add, List<String> remove) {
        return apply(current, replace, add, remove, "a conversation");
    }

    /** As {@link #apply(List, List, List, List)}, naming {@code owner} ("a contact") when refusing more than 20. */
    public static List<String> apply(List<String> current, List<String> replace, List<String> add, List<String> remove,
                                     String owner) {
        Set<String> next = new LinkedHashSet<>(replace != null ? replace : current);
        if (add != null) {
            next.addAll(add);
        }
        if (remove != null) {
            remove.forEach(next::remove);
        }
        if (next.size() > MAX_TAGS) {
            throw ApiException.badRequest(owner + " has at most " + MAX_TAGS + " tags");
        }
        return List.copyOf(next);
    }

    private Tags() {
    }
}
