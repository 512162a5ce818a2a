package io.switchboard.api.workspace;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Picks the canned response that best fits a customer's message: each response lists keyword
 * stems ("телефон", "2fa", "quota"); the score is how many of them occur in the message. The
 * language follows the message's script (Cyrillic letters: Russian). Plain Java, no I/O.
 */
final class CannedSuggester {

    record Candidate(String id, String lang, String title, String text, List<String> keywords) {
    }

    record Suggestion(Candidate response, int score) {
    }

    static String languageOf(String text) {
        if (text == null) {
            return "en";
        }
        long cyrillic = text.codePoints().filter(c -> Character.UnicodeBlock.of(c) == Character.UnicodeBlock.CYRILLIC).count();
        long latin = text.codePoints().filter(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')).count();
        return cyrillic > 0 && cyrillic >= latin / 2 ? "ru" : "en";
    }

    static Optional<Suggestion> suggest(String message, List<Candidate> candidates) {
        if (message == null || message.isBlank()) {
            return Optional.empty();
        }
        String text = message.toLowerCase(Locale.ROOT).replace('ё', 'е');
        String lang = languageOf(message);
        Suggestion best = null;
        for (Candidate c : candidates) {
            int score = 0;
            for (String k : c.keywords()) {
                if (!k.isBlank() && text.contains(k.toLowerCase(Locale.ROOT))) {
                    score++;
                }
            }
            if (score == 0) {
                continue;
            }
            // the message's language wins ties and beats a one-point lead of the other language
            int weighted = score * 2 + (lang.equals(c.lang()) ? 3 : 0);
            if (best == null || weighted > best.score()) {
                best = new Suggestion(c, weighted);
            }
        }
        return Optional.ofNullable(best).map(s -> new Suggestion(s.response(), s.score()));
    }

    private CannedSuggester() {
    }
}
