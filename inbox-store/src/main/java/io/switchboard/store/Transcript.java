package io.switchboard.store;

import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * All messages of one conversation, read as one: stored in pages of bounded size (ADR 0151), each
 * appended by a single-document atomic update guarded by the message key, which makes it idempotent
 * without transactions. {@link #messages()} is in stored order, which is arrival order except after
 * a merge into a paged transcript: that appends the source's messages, older ones included, at the
 * end. Whoever needs time order sorts by {@link #IN_TIME_ORDER} or asks {@link #latest}.
 */
@Document(Transcript.COLLECTION)
public record Transcript(@Id String id, List<Message> messages) {

    public static final String COLLECTION = "transcripts";

    /** The order agents read a conversation in: by the time written, undated messages last. */
    public static final Comparator<Message> IN_TIME_ORDER =
            Comparator.comparing(Message::sentAt, Comparator.nullsLast(Comparator.naturalOrder()));

    public Transcript {
        messages = messages == null ? List.of() : List.copyOf(messages);
    }

    /**
     * The newest message that matches, by {@link #IN_TIME_ORDER}; of equal times the one stored
     * later. It is the last of them in the conversation as the API shows it (a stable sort).
     */
    public Optional<Message> latest(Predicate<Message> which) {
        return messages.stream().filter(which).reduce((a, b) -> IN_TIME_ORDER.compare(b, a) >= 0 ? b : a);
    }
}
