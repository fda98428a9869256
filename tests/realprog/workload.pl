#!/usr/bin/perl
# workload.pl - hash/string-heavy perl workload for t_realprog.sh.
# Output is deterministic (sorted keys).  Usage: perl workload.pl [N]
use strict;
use warnings;

my $n = shift // 40000;
my %h;
for my $i (0 .. $n - 1) {
	my $k = sprintf("key%06d", ($i * 7919) % $n);
	$h{$k} .= join(",", map { chr(97 + ($i + $_) % 26) } 0 .. ($i % 7));
}
my %words;
for my $k (keys %h) {
	$words{$_}++ for split /,/, $h{$k};
	$h{uc $k} = reverse $h{$k} if $k =~ /7$/;
	delete $h{$k} if $k =~ /3$/;
}
my $s = "";
$s .= substr($h{$_}, 0, 3) for sort keys %h;
my @parts = split /(?<=a)/, $s;
my %seen;
my @uniq = grep { !$seen{$_}++ } @parts;
my $x = 0;
$x = ($x * 31 + ord($_)) % 1000000007 for split //, $s;
printf "keys=%d words=%d len=%d parts=%d uniq=%d hash=%d\n",
	scalar(keys %h), scalar(keys %words), length($s), scalar(@parts),
	scalar(@uniq), $x;
print join(" ", map { "$_=$words{$_}" } (sort keys %words)[0 .. 4]), "\n";
